// Small display helpers shared by the tree views, notifications and quick picks.
import type { RunStatusName } from './protocol';

export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  }
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/** The notification line of a live run: "step 40/200 (20%) · objective 0.0123 · ETA 12 s". */
export function progressMessage(p: { step: number; total: number; metric?: string; value?: number; etaS?: number }): string {
  const pct = p.total > 0 ? ` (${Math.floor((100 * p.step) / p.total)}%)` : '';
  const parts = [`step ${p.step}/${p.total}${pct}`];
  if (p.metric && p.value !== undefined) parts.push(`${p.metric} ${formatValue(p.value)}`);
  const eta = formatEta(p.etaS);
  if (eta) parts.push(`ETA ${eta}`);
  return parts.join(' · ');
}

/** Codicon id and theme colour id for a run status (the Runs tree's live icons). */
export function statusIcon(status: RunStatusName): { icon: string; color?: string } {
  switch (status) {
    case 'running':
      return { icon: 'sync~spin', color: 'charts.blue' };
    case 'completed':
      return { icon: 'pass', color: 'testing.iconPassed' };
    case 'failed':
      return { icon: 'error', color: 'testing.iconFailed' };
    case 'cancelled':
      return { icon: 'circle-slash', color: 'disabledForeground' };
    case 'interrupted':
      return { icon: 'warning', color: 'problemsWarningIcon.foreground' };
  }
}

/** "2026-11-28 18:04:05" (local time) from an ISO date. */
export function shortDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The headline value of a run's summary: the key metric, by exact or suffix name. */
export function headline(summary: Record<string, unknown> | undefined, keyMetric: string | undefined): string {
  if (!summary) return '';
  if (keyMetric) {
    for (const [k, v] of Object.entries(summary)) {
      if ((k === keyMetric || k.endsWith('/' + keyMetric) || k === `final_${keyMetric}`) && typeof v === 'number') return `${k} ${formatValue(v)}`;
    }
  }
  const first = Object.entries(summary).find(([, v]) => typeof v === 'number');
  return first ? `${first[0]} ${formatValue(first[1])}` : '';
}
