// Preloaded into a process the benchmark runs unchanged (`node --import peak-rss.js dist/cli.js ...`):
// at exit, writes the process's peak resident set size (KiB) to the file named by BENCH_PEAK_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_PEAK_RSS_FILE;
if (file !== undefined && file !== '') {
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
}
