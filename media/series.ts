// Metric series in the webview: growable columns, EMA smoothing and min/max decimation.
// Pure code (no DOM), so it is unit-tested in Node and stays fast with 10^5 points per metric.

/** One metric of one run: x = step, y = value (NaN where the row had no value). */
export class Series {
  x = new Float64Array(1024);
  y = new Float64Array(1024);
  length = 0;
  private smoothW = -1;
  private smoothed = new Float64Array(0);
  private smoothedLen = 0;
  private emaLast = 0;
  private emaCount = 0;

  append(x: number, y: number): void {
    if (this.length === this.x.length) {
      const nx = new Float64Array(this.x.length * 2);
      nx.set(this.x);
      this.x = nx;
      const ny = new Float64Array(this.y.length * 2);
      ny.set(this.y);
      this.y = ny;
    }
    this.x[this.length] = x;
    this.y[this.length] = y;
    this.length++;
  }

  /**
   * Debiased exponential moving average (TensorBoard's smoothing): last = w*last + (1-w)*y,
   * shown as last / (1 - w^count). Extended incrementally while w is unchanged.
   */
  smooth(w: number): Float64Array {
    if (w <= 0) return this.y.subarray(0, this.length);
    if (w !== this.smoothW) {
      this.smoothW = w;
      this.smoothedLen = 0;
      this.emaLast = 0;
      this.emaCount = 0;
    }
    if (this.smoothed.length < this.y.length) {
      const s = new Float64Array(this.y.length);
      s.set(this.smoothed.subarray(0, this.smoothedLen));
      this.smoothed = s;
    }
    for (let i = this.smoothedLen; i < this.length; i++) {
      const v = this.y[i];
      if (Number.isNaN(v)) {
        this.smoothed[i] = NaN;
        continue;
      }
      this.emaLast = w * this.emaLast + (1 - w) * v;
      this.emaCount++;
      this.smoothed[i] = this.emaLast / (1 - Math.pow(w, this.emaCount));
    }
    this.smoothedLen = this.length;
    return this.smoothed.subarray(0, this.length);
  }
}

/** Index of the first x[i] >= v in sorted x[0..n). */
function lowerBound(x: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Min/max decimation for drawing: splits [xMin, xMax] into `buckets` equal-width buckets and keeps,
 * per bucket, the first point, the minimum, the maximum and the last point (in x order), so
 * spikes survive and a line plot looks the same at screen resolution. NaN values are skipped.
 * Returns at most 4*buckets points; when there are fewer points than that, returns them all.
 */
export function decimate(
  x: Float64Array,
  y: ArrayLike<number>,
  n: number,
  buckets: number,
  range?: [number, number],
): { x: number[]; y: number[] } {
  const [lo, hi] = visibleIndices(x, n, range);
  const outX: number[] = [];
  const outY: number[] = [];
  if (hi - lo <= 4 * buckets) {
    for (let i = lo; i < hi; i++) {
      if (Number.isNaN(y[i])) continue;
      outX.push(x[i]);
      outY.push(y[i]);
    }
    return { x: outX, y: outY };
  }
  const x0 = x[lo];
  const span = x[hi - 1] - x0 || 1;
  let i = lo;
  while (i < hi) {
    const b = Math.min(buckets - 1, Math.floor(((x[i] - x0) / span) * buckets));
    let first = -1;
    let last = -1;
    let iMin = -1;
    let iMax = -1;
    for (; i < hi; i++) {
      if (Math.min(buckets - 1, Math.floor(((x[i] - x0) / span) * buckets)) !== b) break;
      const v = y[i];
      if (Number.isNaN(v)) continue;
      if (first < 0) first = i;
      last = i;
      if (iMin < 0 || v < y[iMin]) iMin = i;
      if (iMax < 0 || v > y[iMax]) iMax = i;
    }
    if (first < 0) continue;
    const picks = [...new Set([first, iMin, iMax, last])].sort((a, b2) => a - b2);
    for (const p of picks) {
      outX.push(x[p]);
      outY.push(y[p]);
    }
  }
  return { x: outX, y: outY };
}

/** Index range [lo, hi) of the points inside `range` (all n without one), plus one point beyond each edge so the line reaches the plot's border. */
function visibleIndices(x: Float64Array, n: number, range?: [number, number]): [number, number] {
  if (!range) return [0, n];
  const lo = Math.max(0, lowerBound(x, n, range[0]) - 1);
  let j = lowerBound(x, n, range[1]);
  while (j < n && x[j] <= range[1]) j++;
  return [lo, Math.min(n, j + 1)];
}

/**
 * Min/max decimation of several series that share one x column (metrics logged in the same
 * rows): the kept indices are the union over series of each bucket's first/min/max/last, so the
 * output stays aligned (every line has a value at every kept x and the legend reads them all).
 */
export function decimateShared(
  x: Float64Array,
  ys: ArrayLike<number>[],
  n: number,
  buckets: number,
  range?: [number, number],
): [number[], ...(number | null)[][]] {
  const [lo, hi] = visibleIndices(x, n, range);
  const keep: number[] = [];
  if (hi - lo <= 4 * buckets) {
    for (let i = lo; i < hi; i++) keep.push(i);
  } else {
    const x0 = x[lo];
    const span = x[hi - 1] - x0 || 1;
    const bucketOf = (i: number) => Math.min(buckets - 1, Math.floor(((x[i] - x0) / span) * buckets));
    let i = lo;
    while (i < hi) {
      const b = bucketOf(i);
      let end = i;
      while (end < hi && bucketOf(end) === b) end++;
      const picks = new Set<number>([i, end - 1]);
      for (const y of ys) {
        let iMin = -1;
        let iMax = -1;
        for (let k = i; k < end; k++) {
          const v = y[k];
          if (Number.isNaN(v)) continue;
          if (iMin < 0 || v < y[iMin]) iMin = k;
          if (iMax < 0 || v > y[iMax]) iMax = k;
        }
        if (iMin >= 0) picks.add(iMin).add(iMax);
      }
      keep.push(...[...picks].sort((a, c) => a - c));
      i = end;
    }
  }
  const xs = keep.map((k) => x[k]);
  const cols = ys.map((y) => keep.map((k) => (Number.isNaN(y[k]) ? null : y[k])));
  return [xs, ...cols];
}

/** Whether series share one x column (same rows), so decimateShared applies. */
export function sameX(series: Series[]): boolean {
  const [a, ...rest] = series;
  if (!a) return false;
  return rest.every((s) => {
    if (s.length !== a.length) return false;
    for (let i = 0; i < a.length; i += Math.max(1, Math.floor(a.length / 64))) if (s.x[i] !== a.x[i]) return false;
    return a.length === 0 || s.x[a.length - 1] === a.x[a.length - 1];
  });
}

/**
 * Aligns several (x, y) series on the union of their x values, as uPlot wants
 * ([xs, ys1, ys2, ...] of equal length, null where a series has no point).
 */
export function alignSeries(series: { x: number[]; y: number[] }[]): [number[], ...(number | null)[][]] {
  // Every part is sorted by x: merge them in one pass (no hashing, no sort).
  const pos = series.map(() => 0);
  const xs: number[] = [];
  const ys: (number | null)[][] = series.map(() => []);
  for (;;) {
    let next = Infinity;
    for (let k = 0; k < series.length; k++) if (pos[k] < series[k].x.length && series[k].x[pos[k]] < next) next = series[k].x[pos[k]];
    if (next === Infinity) break;
    xs.push(next);
    for (let k = 0; k < series.length; k++) {
      const s = series[k];
      if (pos[k] < s.x.length && s.x[pos[k]] === next) {
        ys[k].push(s.y[pos[k]]);
        while (pos[k] < s.x.length && s.x[pos[k]] === next) pos[k]++; // duplicate x: keep the first
      } else ys[k].push(null);
    }
  }
  return [xs, ...ys];
}

/** For log axes: non-positive values cannot be drawn and become NaN. */
export function positiveOnly(y: ArrayLike<number>): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] > 0 ? y[i] : NaN;
  return out;
}

/**
 * Metric names a panel selects first: those named like the key metric, plus the metrics where
 * the method is logged beside a baseline (`<method>/x` and `<baseline>/x`, the method's prefix
 * being the experiment id); else the first few.
 */
export function defaultSelection(names: string[], keyMetric: string | undefined, max = 4, method?: string): string[] {
  const picked = new Set<string>();
  if (keyMetric) for (const n of names) if (n === keyMetric || n.endsWith('/' + keyMetric)) picked.add(n);
  if (method) {
    const prefix = method.replace(/-/g, '_') + '/';
    for (const n of names) {
      if (!n.startsWith(prefix) && !n.startsWith(method + '/')) continue;
      const suffix = n.slice(n.indexOf('/') + 1);
      const peers = names.filter((m) => m !== n && m.endsWith('/' + suffix) && m.split('/').length === 2);
      if (peers.length) [n, ...peers].forEach((m) => picked.add(m));
    }
  }
  if (picked.size) return names.filter((n) => picked.has(n)).slice(0, 8);
  return names.slice(0, max);
}

/**
 * Groups selected metrics into charts. With `overlay`, metrics that share the part after the
 * last '/' (e.g. `cbo/objective` and `random_search/objective`: a method beside its baseline)
 * share one chart; otherwise each metric has its own.
 */
export function groupCharts(selected: string[], overlay: boolean): { title: string; metrics: string[] }[] {
  if (!overlay) return selected.map((m) => ({ title: m, metrics: [m] }));
  const groups = new Map<string, string[]>();
  for (const m of selected) {
    const key = m.includes('/') ? m.slice(m.lastIndexOf('/') + 1) : m;
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  return [...groups].map(([title, metrics]) => ({ title: metrics.length > 1 ? title : metrics[0], metrics }));
}
