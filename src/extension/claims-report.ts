// The Run Claim Checks report: claim results as a Markdown table (pure, unit-tested).

/** Claim results as a Markdown table (the Run Claim Checks report). */
export function claimsMarkdown(records: { id: string; pass: boolean; form: string; summary: string; seconds: number; measured: Record<string, unknown> }[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['# Prox Lab claim checks', '', `${records.filter((r) => r.pass).length} passed, ${records.filter((r) => !r.pass).length} failed`, ''];
  lines.push('| method | result | form | time | measured | summary |', '|---|---|---|---|---|---|');
  for (const r of records) {
    const measured = Object.entries(r.measured)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : String(v)}`)
      .join(', ');
    lines.push(`| ${r.id} | ${r.pass ? '✅ pass' : '❌ fail'} | ${r.form} | ${r.seconds.toFixed(1)} s | ${cell(measured)} | ${cell(r.summary)} |`);
  }
  return lines.join('\n') + '\n';
}
