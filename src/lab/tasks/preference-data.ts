// User-supplied preference datasets: JSONL, one {"prompt", "chosen", "rejected"} object per line.
// Errors name the file, the line and the field; nothing is partially accepted.
import { readFileSync } from 'node:fs';

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
}

export class PreferenceDataError extends Error {}

export function parsePreferenceJsonl(text: string, source = '<input>'): PreferencePair[] {
  const pairs: PreferencePair[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const where = `${source}:${i + 1}`;
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new PreferenceDataError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new PreferenceDataError(`${where}: expected an object with prompt, chosen and rejected, got ${Array.isArray(row) ? 'an array' : JSON.stringify(row)}`);
    }
    const r = row as Record<string, unknown>;
    for (const field of ['prompt', 'chosen', 'rejected'] as const) {
      if (!(field in r)) throw new PreferenceDataError(`${where}: missing field '${field}'`);
      if (typeof r[field] !== 'string') throw new PreferenceDataError(`${where}: field '${field}' must be a string, got ${typeof r[field]}`);
    }
    if (!(r.chosen as string).trim()) throw new PreferenceDataError(`${where}: field 'chosen' is empty`);
    if (!(r.rejected as string).trim()) throw new PreferenceDataError(`${where}: field 'rejected' is empty`);
    if (r.chosen === r.rejected) throw new PreferenceDataError(`${where}: 'chosen' and 'rejected' are identical`);
    pairs.push({ prompt: r.prompt as string, chosen: r.chosen as string, rejected: r.rejected as string });
  });
  if (!pairs.length) throw new PreferenceDataError(`${source}: no preference pairs (expected JSON lines with prompt, chosen, rejected)`);
  return pairs;
}

export function readPreferenceJsonl(path: string): PreferencePair[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PreferenceDataError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parsePreferenceJsonl(text, path);
}
