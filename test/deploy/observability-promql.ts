// What the dashboard's and the alerting rules' PromQL reads: the metric names and, per selector,
// the label names it matches on. Not a PromQL parser: promtool checks the syntax (observability
// test); this only has to find the names in expressions that promtool accepts.

/** One selector: `name{label="value", ...}` (name undefined for a bare `{...}`). */
export interface Selector {
  readonly name: string | undefined;
  readonly labels: readonly string[];
}

/** Grafana's variables, as the values they take in a query: durations, or regexes inside strings. */
const GRAFANA_DURATIONS = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

/** Words that look like metric names but are operators or modifiers (functions are followed by `(`). */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

/** `expr` with Grafana's variables replaced, string literals emptied, ranges and offsets removed. */
function normalize(expr: string): string {
  return expr
    .replace(GRAFANA_DURATIONS, '5m')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?[\dsmhdwy]+/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
}

/** Every selector of `expr`, with the label names its matchers use. */
export function selectors(expr: string): Selector[] {
  const text = normalize(expr);
  const found: Selector[] = [];
  // A name with matchers; or a bare name: a whole word, not a function (followed by `(`).
  const pattern = /(?<![\w:.])([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}|(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*[({])/g;
  for (const match of text.matchAll(pattern)) {
    if (match[2] !== undefined) {
      const labels = [...match[2].matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((label) => label[1]!);
      // A name matched by regex would escape the check that every name exists.
      if (labels.includes('__name__')) throw new Error(`a selector matches __name__ in ${expr}: name the metric instead`);
      found.push({ name: match[1], labels });
    } else if (match[3] !== undefined && !KEYWORDS.has(match[3].toLowerCase())) {
      found.push({ name: match[3], labels: [] });
    }
  }
  return found;
}

/** The metric names `expr` reads. */
export function metricNames(expr: string): string[] {
  return [...new Set(selectors(expr).flatMap((selector) => (selector.name === undefined ? [] : [selector.name])))];
}
