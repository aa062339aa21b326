// Nelder–Mead simplex minimization (Lagarias et al. 1998 standard coefficients: reflection 1,
// expansion 2, contraction ½, shrink ½). Derivative-free; for small offline fits (≤ ~10 parameters).

export interface NelderMeadResult {
  x: Float64Array;
  value: number;
  evaluations: number;
}

export function nelderMead(
  f: (x: Float64Array) => number,
  x0: ArrayLike<number>,
  opts: { step?: number | ArrayLike<number>; maxEvaluations?: number; tol?: number } = {},
): NelderMeadResult {
  const d = x0.length;
  const maxEval = opts.maxEvaluations ?? 200 * d;
  const tol = opts.tol ?? 1e-10;
  const stepOf = (i: number) => (typeof opts.step === 'number' ? opts.step : (opts.step?.[i] ?? 0.1 * (Math.abs(x0[i]) || 1)));
  let evals = 0;
  const F = (x: Float64Array) => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const pts: Float64Array[] = [Float64Array.from(x0)];
  for (let i = 0; i < d; i++) {
    const p = Float64Array.from(x0);
    p[i] += stepOf(i);
    pts.push(p);
  }
  const vals = pts.map(F);
  const lerp = (a: Float64Array, b: Float64Array, t: number) => Float64Array.from(a, (ai, i) => ai + t * (b[i] - ai));
  while (evals < maxEval) {
    const order = vals.map((_, i) => i).sort((i, j) => vals[i] - vals[j]);
    const sp = order.map((i) => pts[i]);
    const sv = order.map((i) => vals[i]);
    pts.splice(0, pts.length, ...sp);
    vals.splice(0, vals.length, ...sv);
    if (Math.abs(vals[d] - vals[0]) <= tol * (Math.abs(vals[0]) + tol)) break;
    const centroid = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) centroid[k] += pts[i][k] / d;
    const worst = pts[d];
    const xr = lerp(centroid, worst, -1);
    const fr = F(xr);
    if (fr < vals[0]) {
      const xe = lerp(centroid, worst, -2);
      const fe = F(xe);
      if (fe < fr) [pts[d], vals[d]] = [xe, fe];
      else [pts[d], vals[d]] = [xr, fr];
    } else if (fr < vals[d - 1]) {
      [pts[d], vals[d]] = [xr, fr];
    } else {
      const outside = fr < vals[d];
      const xc = outside ? lerp(centroid, worst, -0.5) : lerp(centroid, worst, 0.5);
      const fc = F(xc);
      if (fc < (outside ? fr : vals[d])) [pts[d], vals[d]] = [xc, fc];
      else {
        for (let i = 1; i <= d; i++) {
          pts[i] = lerp(pts[0], pts[i], 0.5);
          vals[i] = F(pts[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= d; i++) if (vals[i] < vals[best]) best = i;
  return { x: pts[best], value: vals[best], evaluations: evals };
}
