// Loaded with `node --import` by the benchmarks: on exit, writes this process's peak resident set
// size in kilobytes to $FD_RSS_FILE.
import fs from 'node:fs';

process.on('exit', () => {
  if (process.env.FD_RSS_FILE) fs.writeFileSync(process.env.FD_RSS_FILE, String(process.resourceUsage().maxRSS));
});
