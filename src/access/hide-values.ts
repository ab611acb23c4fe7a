// Condition messages quote the values of the attributes they compared, e.g. `attribute
// resource.properties.ownerID ("bob@example.com") does not satisfy ...`: right for `keycard check`
// and `keycard test`, where the operator wrote the question. Where decisions are kept (the audit
// log, the decision explorer), the values of properties and context attributes, which callers
// send and the directory holds, are hidden; the attribute names stay.

export const HIDDEN_VALUE = '[value hidden]';

/** A properties or context attribute named in a condition's message, followed by its value in parentheses. */
const VALUE_ATTRIBUTE = /(?:subject|resource|action)\.properties\.[^\s()]+ \(|context\.[^\s()]+ \(/g;
/** The attribute condition previews a value as its JSON, cut to 77 characters and "..." past 80. */
const PREVIEW_MAX = 80;

/**
 * Replaces the value previews that follow properties and context attributes in a message with
 * HIDDEN_VALUE. A preview is the value's JSON (or its first 77 characters and "..."), so its end is
 * the first ")" that closes a whole JSON text (or the 80-character cut): a ")" inside a string
 * value does not end it early. A preview whose end cannot be found hides the rest of the message.
 */
export function hideAttributeValues(text: string): string {
  // Most messages (roles, relations, credentials) quote no attribute value: returned as they are.
  if (!text.includes(' (') || (!text.includes('properties.') && !text.includes('context.'))) return text;
  let out = '';
  let from = 0;
  VALUE_ATTRIBUTE.lastIndex = 0;
  for (let match = VALUE_ATTRIBUTE.exec(text); match !== null; match = VALUE_ATTRIBUTE.exec(text)) {
    const start = match.index + match[0].length;
    if (start < from) continue;
    const end = previewEnd(text, start);
    out += text.slice(from, start) + HIDDEN_VALUE;
    from = end;
  }
  return out + text.slice(from);
}

/** Where the preview starting at `start` ends (the index of its closing ")"), or the message's end. */
function previewEnd(text: string, start: number): number {
  const limit = Math.min(text.length, start + PREVIEW_MAX + 1);
  for (let at = text.indexOf(')', start); at >= 0 && at < limit; at = text.indexOf(')', at + 1)) {
    const candidate = text.slice(start, at);
    if ((candidate.length === PREVIEW_MAX && candidate.endsWith('...')) || isJson(candidate)) return at;
  }
  return text.length;
}

function isJson(text: string): boolean {
  if (text === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
