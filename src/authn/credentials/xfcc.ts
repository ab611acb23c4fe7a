// Envoy's x-forwarded-client-cert header: one element per proxy hop, separated by ",", each a
// list of `Key=value` pairs separated by ";". A value containing "," ";" "=" or '"' is quoted,
// with '"' and "\" escaped by a backslash inside the quotes. Keys: By, Hash, Cert, Chain,
// Subject, URI, DNS (URI and DNS may repeat).
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert

export type XfccElement = ReadonlyMap<string, readonly string[]>;

/** Most elements (hops) read from one header; more is refused as malformed. */
const MAX_ELEMENTS = 64;

const KEY = /^[A-Za-z]+$/;

export class XfccSyntaxError extends Error {}

/** The elements of an x-forwarded-client-cert value, in the order the proxies appended them. */
export function parseXfcc(header: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let element = new Map<string, string[]>();
  let position = 0;
  for (;;) {
    const equals = header.indexOf('=', position);
    if (equals < 0) throw new XfccSyntaxError(`a pair without "=" at offset ${position}`);
    const key = header.slice(position, equals).trim();
    if (!KEY.test(key)) throw new XfccSyntaxError(`key ${JSON.stringify(key)} at offset ${position}`);
    const { value, end } = readValue(header, equals + 1);
    const values = element.get(key);
    if (values) values.push(value);
    else element.set(key, [value]);
    position = end;
    if (position >= header.length) break;
    const separator = header[position];
    position++;
    if (separator === ',') {
      elements.push(element);
      if (elements.length >= MAX_ELEMENTS) throw new XfccSyntaxError(`more than ${MAX_ELEMENTS} elements`);
      element = new Map();
    }
  }
  elements.push(element);
  return elements;
}

/** A value starting at `start`: quoted, or plain up to the next ";" or ",". */
function readValue(header: string, start: number): { value: string; end: number } {
  if (header[start] !== '"') {
    let end = start;
    while (end < header.length && header[end] !== ';' && header[end] !== ',') {
      if (header[end] === '"') throw new XfccSyntaxError(`a quote inside an unquoted value at offset ${end}`);
      end++;
    }
    return { value: header.slice(start, end), end };
  }
  let value = '';
  let index = start + 1;
  for (;;) {
    if (index >= header.length) throw new XfccSyntaxError(`an unterminated quoted value at offset ${start}`);
    const char = header[index]!;
    if (char === '\\') {
      if (index + 1 >= header.length) throw new XfccSyntaxError(`a dangling escape at offset ${index}`);
      value += header[index + 1];
      index += 2;
    } else if (char === '"') {
      index++;
      break;
    } else {
      value += char;
      index++;
    }
  }
  if (index < header.length && header[index] !== ';' && header[index] !== ',') {
    throw new XfccSyntaxError(`text after a quoted value at offset ${index}`);
  }
  return { value, end: index };
}
