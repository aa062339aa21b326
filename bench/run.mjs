// `npm run bench [-- name ...]`: runs bench/*.bench.ts (all, or those whose name contains a filter).
// Each benchmark prints JSON lines (one per figure); this runner passes them through unchanged and
// exits non-zero if a benchmark fails.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const dashDash = args.indexOf('--');
const filters = (dashDash >= 0 ? args.slice(0, dashDash) : args).filter((a) => !a.startsWith('-'));
const passThrough = dashDash >= 0 ? args.slice(dashDash + 1) : [];
let files = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (!files.length) {
  console.error(`no benchmark matches ${filters.join(', ')}; available: ${readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.error(`# bench ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', f), ...passThrough], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(JSON.stringify({ bench: f, error: `exited with ${r.status ?? r.signal}` }));
  }
}
process.exit(failed ? 1 : 0);
