// Markdown for pull-request comments: text is escaped so rule ids, templates (`/orders/**`) and
// condition descriptions (`any of (a | b)`) never turn into emphasis, links or extra table cells.

export function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (char) => `\\${char}`);
}

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}
