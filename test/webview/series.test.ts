// The webview's data layer: growable series, debiased EMA smoothing, min/max decimation that
// keeps spikes, alignment of several series for uPlot, default selection and chart grouping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Series, alignSeries, decimate, decimateShared, defaultSelection, groupCharts, positiveOnly, sameX } from '../../media/series';

test('series grows past its initial capacity', () => {
  const s = new Series();
  for (let i = 0; i < 5000; i++) s.append(i, i * 2);
  assert.equal(s.length, 5000);
  assert.equal(s.y[4999], 9998);
});

test('EMA smoothing is debiased and extends incrementally', () => {
  const s = new Series();
  s.append(0, 10);
  s.append(1, 20);
  const w = 0.5;
  const sm = s.smooth(w);
  assert.equal(sm[0], 10, 'first smoothed value equals the first value (debiased)');
  // last = 0.5*(0.5*10) + 0.5*20 = 12.5; debias 1 - 0.25 = 0.75 -> 16.666…
  assert.ok(Math.abs(sm[1] - 12.5 / 0.75) < 1e-12);
  s.append(2, NaN);
  s.append(3, 30);
  const sm2 = s.smooth(w);
  assert.ok(Number.isNaN(sm2[2]));
  const fresh = new Series();
  for (const [x, y] of [[0, 10], [1, 20], [2, NaN], [3, 30]]) fresh.append(x, y);
  assert.deepEqual([...sm2], [...fresh.smooth(w)], 'incremental = from scratch');
  assert.deepEqual([...s.smooth(0)], [10, 20, NaN, 30]);
});

test('decimation bounds the point count and keeps extremes', () => {
  const n = 100_000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i;
    y[i] = Math.sin(i / 1000);
  }
  y[54321] = 50; // a spike
  y[12345] = -50;
  const t0 = performance.now();
  const d = decimate(x, y, n, 500);
  console.log(`decimate 10^5 points to 500 buckets: ${(performance.now() - t0).toFixed(2)} ms`);
  assert.ok(d.x.length <= 2000, `at most 4 points per bucket, got ${d.x.length}`);
  assert.ok(d.y.includes(50) && d.y.includes(-50), 'spikes survive');
  assert.equal(d.x[0], 0);
  assert.equal(d.x.at(-1), n - 1);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i] > d.x[i - 1], 'x stays increasing');
  // zoomed: only the visible range (plus one point beyond each edge)
  const z = decimate(x, y, n, 500, [1000, 1100]);
  assert.equal(z.x[0], 999);
  assert.equal(z.x.at(-1), 1101);
  assert.equal(z.x.length, 103);
  // small inputs pass through, NaN skipped
  const small = decimate(new Float64Array([0, 1, 2]), [1, NaN, 3], 3, 10);
  assert.deepEqual(small, { x: [0, 2], y: [1, 3] });
});

test('alignSeries merges many sorted series fast', () => {
  const parts = Array.from({ length: 3 }, (_, k) => {
    const x: number[] = [];
    for (let i = k; i < 30_000; i += 1 + k) x.push(i);
    return { x, y: x.map((v) => v * 2) };
  });
  const [xs, ...ys] = alignSeries(parts);
  assert.equal(xs.length, 30_000);
  assert.equal(ys[0][5], 10);
  assert.equal(ys[1][2], null);
  assert.equal(ys[1][3], 6);
});

test('alignSeries joins on the union of x with nulls', () => {
  const [xs, a, b] = alignSeries([
    { x: [0, 2], y: [1, 3] },
    { x: [1, 2], y: [5, 6] },
  ]);
  assert.deepEqual(xs, [0, 1, 2]);
  assert.deepEqual(a, [1, null, 3]);
  assert.deepEqual(b, [null, 5, 6]);
});

test('positiveOnly, default selection and chart grouping', () => {
  assert.deepEqual([...positiveOnly([1, 0, -2, 3])], [1, NaN, NaN, 3]);
  const names = ['cbo/objective', 'gap', 'random_search/objective', 'wall_s'];
  assert.deepEqual(defaultSelection(names, 'objective'), ['cbo/objective', 'random_search/objective']);
  assert.deepEqual(defaultSelection(names, 'missing', 2), ['cbo/objective', 'gap']);
  // the method beside its baseline is selected by default (prefix = experiment id, '-' as '_')
  const more = ['cbo/best_objective', 'cbo/objective', 'random_search/best_objective', 'wall_s'];
  assert.deepEqual(defaultSelection(more, 'objective', 4, 'cbo'), ['cbo/best_objective', 'cbo/objective', 'random_search/best_objective']);
  assert.deepEqual(defaultSelection(['sor_bandit/residual', 'fixed/residual', 'x'], undefined, 4, 'sor-bandit'), ['sor_bandit/residual', 'fixed/residual']);
  // TRL-style names share suffixes without a method prefix: nothing is paired
  assert.deepEqual(defaultSelection(['logps/chosen', 'rewards/chosen', 'loss'], 'loss', 4, 'dpo'), ['loss']);
  assert.deepEqual(groupCharts(['cbo/objective', 'gap', 'random_search/objective'], true), [
    { title: 'objective', metrics: ['cbo/objective', 'random_search/objective'] },
    { title: 'gap', metrics: ['gap'] },
  ]);
  assert.deepEqual(groupCharts(['cbo/objective', 'gap'], false).map((g) => g.title), ['cbo/objective', 'gap']);
});

test('shared decimation keeps several series aligned and keeps each one\'s extremes', () => {
  const n = 50_000;
  const a = new Series();
  const b = new Series();
  for (let i = 0; i < n; i++) {
    a.append(i, Math.sin(i / 500));
    b.append(i, i === 777 ? 99 : Math.cos(i / 500));
  }
  assert.ok(sameX([a, b]));
  const [xs, ya, yb] = decimateShared(a.x, [a.y.subarray(0, n), b.y.subarray(0, n)], n, 200);
  assert.ok(xs.length <= 200 * 6, `bounded: ${xs.length}`);
  assert.equal(ya.length, xs.length);
  assert.ok(ya.every((v) => v !== null) && yb.every((v) => v !== null), 'every line has a value at every kept x');
  assert.ok(yb.includes(99), "b's spike survives");
  const [zx] = decimateShared(a.x, [a.y], n, 200, [1000, 1010]);
  assert.deepEqual([zx[0], zx.at(-1)], [999, 1011]);
  const c = new Series();
  c.append(0, 1);
  assert.ok(!sameX([a, c]));
});
