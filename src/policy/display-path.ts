// Paths in messages: relative to the working directory when inside it, else absolute, so that a
// message names a file the way the operator would type it.
import { relative } from 'node:path';

export function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd && !fromCwd.startsWith('..') ? fromCwd : file;
}
