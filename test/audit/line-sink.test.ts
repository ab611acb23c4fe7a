// The audit log's sink: lines in order, written in batches without blocking, dropped and counted
// past the bound, and for a shared pipe cut into writes of whole lines within PIPE_BUF.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LineSink, linesThatFit } from '../../src/audit/line-sink.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace;
afterEach(() => workspace?.remove());

describe('LineSink', () => {
  it('writes every line in order, in a file it creates with its directory, by close()', async () => {
    workspace = new Workspace();
    const file = workspace.path('logs/deep/audit.log');
    const sink = new LineSink({ dest: file, batchChars: 100, maxBufferedChars: 1_000_000 });
    const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"text":"zoë ✓"}\n`);
    for (const line of lines) sink.write(line);
    await sink.close();
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  it('appends to an existing file, and flush() writes what waits below the batch size', async () => {
    workspace = new Workspace();
    const file = workspace.write('audit.log', 'earlier\n');
    const sink = new LineSink({ dest: file, batchChars: 1_000_000, maxBufferedChars: 1_000_000 });
    sink.write('one\n');
    expect(readFileSync(file, 'utf8')).toBe('earlier\n'); // below the batch: still waiting
    sink.flush();
    for (let i = 0; i < 100 && readFileSync(file, 'utf8') !== 'earlier\none\n'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readFileSync(file, 'utf8')).toBe('earlier\none\n');
    sink.write('two\n');
    sink.flushSync();
    expect(readFileSync(file, 'utf8')).toBe('earlier\none\ntwo\n');
    await sink.close();
  });

  it('drops, and counts, lines past the bound instead of growing', async () => {
    workspace = new Workspace();
    const file = workspace.path('audit.log');
    let dropped = 0;
    const sink = new LineSink({ dest: file, batchChars: 1_000_000, maxBufferedChars: 25, onDrop: () => dropped++ });
    for (let i = 0; i < 5; i++) sink.write(`line ${i}...\n`); // 11 characters each: two fit
    await sink.close();
    expect(dropped).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe('line 0...\nline 1...\n');
  });

  it("cuts a shared pipe's writes into whole lines within PIPE_BUF (a longer line alone)", () => {
    const line = (bytes: number) => `${'x'.repeat(bytes - 1)}\n`;
    expect(linesThatFit([line(1000), line(1000), line(1000), line(1000), line(1000)], 4096)).toBe(4);
    expect(linesThatFit([line(5000), line(10)], 4096)).toBe(1);
    expect(linesThatFit([line(10), line(5000)], 4096)).toBe(1);
    // Bytes, not characters: 1,501 characters but 3,001 bytes, and 2,000 more do not fit.
    expect(linesThatFit([`${'é'.repeat(1500)}\n`, line(2000)], 4096)).toBe(1);
  });
});
