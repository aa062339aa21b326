// Runs claim checks (fast or full form) and keeps the latest outcome per method in <runsDir>/claims.json.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../../core/experiment';
import type { ClaimRecord } from './methods';
import { writeFileAtomic } from './store';

export const CLAIMS_FILE = 'claims.json';

export function readClaims(runsDir: string): Record<string, ClaimRecord> {
  const p = join(runsDir, CLAIMS_FILE);
  if (!existsSync(p)) return {};
  try {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, ClaimRecord>) : {};
  } catch {
    return {};
  }
}

export function writeClaims(runsDir: string, records: ClaimRecord[]): void {
  mkdirSync(runsDir, { recursive: true });
  const all = readClaims(runsDir);
  for (const r of records) all[r.id] = r;
  writeFileAtomic(join(runsDir, CLAIMS_FILE), JSON.stringify(all, null, 2) + '\n');
}

export async function runClaim(exp: Experiment, form: 'fast' | 'full', seeds: number[], signal?: AbortSignal): Promise<ClaimRecord> {
  const started = Date.now();
  const base = { id: exp.id, form, at: new Date().toISOString() };
  if (!exp.claim) return { ...base, pass: false, summary: 'no claim check declared', measured: {}, seconds: 0 };
  try {
    const r = form === 'full' && exp.claim.full ? await exp.claim.full({ seeds, signal }) : await exp.claim.fast({ seed: seeds[0] ?? 0, signal });
    return { ...base, form: form === 'full' && exp.claim.full ? 'full' : 'fast', pass: r.pass, summary: r.summary, measured: r.measured, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    return { ...base, pass: false, summary: `claim check threw: ${(e as Error)?.message ?? String(e)}`, measured: {}, seconds: (Date.now() - started) / 1000 };
  }
}
