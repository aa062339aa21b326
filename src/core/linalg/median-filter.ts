// Running median of odd window width. Edges: the window is clipped at the start and
// reflect-padded at the end (the convention of the LR-refinement paper's scripts, spec §15),
// or clipped at both ends.

export function medianFilter(x: ArrayLike<number>, width: number, endPadding: 'reflect' | 'clip' = 'reflect'): Float64Array {
  if (!Number.isInteger(width) || width < 1 || width % 2 === 0) throw new Error(`medianFilter: width must be an odd positive integer, got ${width}`);
  const n = x.length;
  const half = (width - 1) / 2;
  const out = new Float64Array(n);
  const buf: number[] = [];
  for (let i = 0; i < n; i++) {
    buf.length = 0;
    for (let j = i - half; j <= i + half; j++) {
      if (j < 0) continue;
      if (j >= n) {
        if (endPadding === 'clip') continue;
        const r = 2 * (n - 1) - j; // reflect about the last sample
        if (r >= 0) buf.push(x[r]);
        continue;
      }
      buf.push(x[j]);
    }
    buf.sort((a, b) => a - b);
    const m = buf.length;
    out[i] = m % 2 === 1 ? buf[(m - 1) / 2] : 0.5 * (buf[m / 2 - 1] + buf[m / 2]);
  }
  return out;
}
