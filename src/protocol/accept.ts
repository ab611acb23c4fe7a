// Content negotiation for deny answers (RFC 9110 §12.5.1 Accept): HTML only when the client
// strictly prefers text/html over application/json. Anything doubtful keeps the JSON default: no
// Accept, `*/*` (curl, most API clients), equal weights, a malformed or oversized header.

/** Longer than any browser's Accept (Chrome's and Firefox's are under 300 characters); not parsed. */
export const MAX_ACCEPT_LENGTH = 2048;
/** More media ranges than this: not parsed. */
export const MAX_MEDIA_RANGES = 64;

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  /** Lower-case names, values as sent (unquoted), without q. */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** Weight in thousandths (0 to 1000). */
  readonly weight: number;
}

interface Representation {
  readonly type: string;
  readonly subtype: string;
  readonly params: ReadonlyMap<string, string>;
}

const HTML: Representation = { type: 'text', subtype: 'html', params: new Map([['charset', 'utf-8']]) };
const JSON_TYPE: Representation = { type: 'application', subtype: 'json', params: new Map() };

/** True when the Accept header value prefers the HTML deny page to the JSON body. */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept.length > MAX_ACCEPT_LENGTH) return false;
  const ranges = parseAccept(accept);
  if (!ranges) return false;
  const html = weightFor(HTML, ranges);
  return html > 0 && html > weightFor(JSON_TYPE, ranges);
}

/**
 * The weight the most specific matching range gives (RFC 9110 §12.5.1: `type/subtype;params` over
 * `type/subtype` over `type/*` over `*\/*`; the higher weight among equally specific ones), 0 when
 * none matches.
 */
function weightFor(representation: Representation, ranges: readonly MediaRange[]): number {
  let bestSpecificity = -1;
  let weight = 0;
  for (const range of ranges) {
    const specificity = matchSpecificity(range, representation);
    if (specificity < 0) continue;
    if (specificity > bestSpecificity || (specificity === bestSpecificity && range.weight > weight)) {
      bestSpecificity = specificity;
      weight = range.weight;
    }
  }
  return weight;
}

/** -1 when the range does not match; else how specific it is. */
function matchSpecificity(range: MediaRange, representation: Representation): number {
  if (range.type === '*') return 0;
  if (range.type !== representation.type) return -1;
  if (range.subtype === '*') return 1;
  if (range.subtype !== representation.subtype) return -1;
  if (range.params.length === 0) return 2;
  // A range with parameters applies only to a representation that has every one of them.
  for (const [name, value] of range.params) {
    const own = representation.params.get(name);
    if (own === undefined || own !== value.toLowerCase()) return -1;
  }
  return 3;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const OWS = /[ \t]*/y;
/** RFC 9110 quoted-string: any character but controls (tab excepted), `"` and `\`, or a `\`-escaped one. */
const QUOTED = /"((?:[^"\\\p{Cc}]|\t|\\(?:[^\p{Cc}]|\t))*)"/uy;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The media ranges of an Accept value (empty list elements skipped), or undefined when malformed or too many. */
export function parseAccept(value: string): MediaRange[] | undefined {
  const ranges: MediaRange[] = [];
  let pos = 0;
  const sticky = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = pos;
    const match = pattern.exec(value);
    if (match) pos = pattern.lastIndex;
    return match;
  };
  const skipSpace = () => void sticky(OWS);

  for (;;) {
    // #rule: empty elements and surrounding whitespace are allowed.
    skipSpace();
    while (value[pos] === ',') {
      pos++;
      skipSpace();
    }
    if (pos >= value.length) return ranges;
    if (ranges.length === MAX_MEDIA_RANGES) return undefined;

    const type = sticky(TOKEN)?.[0];
    if (type === undefined || value[pos] !== '/') return undefined;
    pos++;
    const subtype = sticky(TOKEN)?.[0];
    if (subtype === undefined || (type === '*' && subtype !== '*')) return undefined;

    const params: [string, string][] = [];
    let weight = 1000;
    for (;;) {
      skipSpace();
      if (value[pos] !== ';') break;
      pos++;
      skipSpace();
      if (pos >= value.length || value[pos] === ',' || value[pos] === ';') continue; // an empty parameter
      const name = sticky(TOKEN)?.[0].toLowerCase();
      if (name === undefined || value[pos] !== '=') return undefined;
      pos++;
      const quoted = sticky(QUOTED);
      const parameterValue = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : sticky(TOKEN)?.[0];
      if (parameterValue === undefined) return undefined;
      if (name === 'q') {
        if (quoted || !QVALUE.test(parameterValue)) return undefined;
        weight = Math.round(Number(parameterValue) * 1000);
      } else {
        params.push([name, parameterValue]);
      }
    }
    if (pos < value.length && value[pos] !== ',') return undefined;
    ranges.push({ type: type.toLowerCase(), subtype: subtype.toLowerCase(), params, weight });
  }
}
