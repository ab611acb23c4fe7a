// One finding as a line of text: `severity code location: message`.
import type { Finding } from './findings.js';

/** `file:line` for rule findings, `file#pointer` for operation findings, the file otherwise. */
export function findingLocation(entry: Finding): string {
  if (entry.line !== undefined) return `${entry.file}:${entry.line}`;
  if (entry.pointer !== undefined) return `${entry.file}#${entry.pointer}`;
  return entry.file;
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
