// Quintic Newton–Schulz orthogonalization (Muon; ROOT's "AdaNewton", optimizers.md §2).
// For B with rows ≤ cols: X₀ = B/(‖B‖_F + ε); K times X ← aX + (bS + cS²)X with S = XXᵀ.
// Each step maps every singular value σ of X through p(σ) = aσ + bσ³ + cσ⁵ and keeps the singular
// vectors, so after K steps X_K = U p^K(Σ) Vᵀ and its distance to the polar factor U Vᵀ is
//   ‖X_K − UVᵀ‖_F / ‖UVᵀ‖_F = sqrt(mean_i (p^K(σ_i) − 1)²)          (exact, used for fitting).
// Muon uses one (a, b, c) for every shape; ROOT tunes (a, b, c) per shape. The paper's table only
// covers LLM shapes (min dim 2048), so for our shapes we fit (a, b, c) by Nelder–Mead on the
// singular values of random matrices of each shape (spec §2, "how to get coefficients").
import { Tensor } from '../graph/graph';
import * as O from '../graph/ops';
import { nelderMead } from '../linalg/nelder-mead';
import { rowJacobiSvd, transposeDense } from '../linalg/polar';
import { Rng } from '../rng';

export type NsCoefficients = readonly [number, number, number];

/** Muon's fixed quintic coefficients (KellerJordan/Muon, torch.optim.Muon default). */
export const MUON_NS_COEFFICIENTS: NsCoefficients = [3.4445, -4.775, 2.0315];

/** ROOT's published table, keyed `min×max` of the matrix shape (huawei-noah ROOT example). */
export const ROOT_PUBLISHED_NS_COEFFICIENTS: Readonly<Record<string, NsCoefficients>> = {
  '2048x2048': [3.4916, -4.8224, 2.1095],
  '2048x3072': [3.4509, -4.579, 1.9325],
  '2048x8192': [2.9794, -3.6674, 1.6207],
  '2048x16384': [3.1943, -3.8221, 1.5322],
};

/**
 * Coefficients fitted for the shapes of our models and toy problems by `fitNsCoefficients`
 * (K = 5, 64 Gaussian + 64 Student-t(ν = 3) matrices per shape, fit seed 1; regenerate with
 * `npx tsx src/core/optim/newton-schulz.ts`). Keys are `min×max`.
 */
export const ROOT_FITTED_NS_COEFFICIENTS: Readonly<Record<string, NsCoefficients>> = {
  // FITTED-TABLE-START
  '32x32': [3.1413, -3.5218, 1.3608], // mean error 0.080 (Muon 0.213)
  '32x128': [2.1522, -1.7982, 0.6461], // 0.000 (Muon 0.225)
  '64x64': [3.1595, -3.5745, 1.3879], // 0.098 (Muon 0.213)
  '64x128': [2.2117, -1.997, 0.7857], // 0.001 (Muon 0.203)
  '64x192': [2.3239, -2.1188, 0.795], // 0.000 (Muon 0.207)
  '64x256': [2.2542, -1.9908, 0.7367], // 0.000 (Muon 0.217)
  '128x128': [3.1836, -3.6643, 1.4422], // 0.113 (Muon 0.213)
  '128x384': [2.4492, -2.3363, 0.8874], // 0.001 (Muon 0.214)
  // FITTED-TABLE-END
};

export const shapeKey = (rows: number, cols: number): string => `${Math.min(rows, cols)}x${Math.max(rows, cols)}`;

/** Shape-adaptive lookup: fitted table, then the published table, then Muon's triple. */
export function nsCoefficientsFor(rows: number, cols: number, table: Readonly<Record<string, NsCoefficients>> = { ...ROOT_PUBLISHED_NS_COEFFICIENTS, ...ROOT_FITTED_NS_COEFFICIENTS }): NsCoefficients {
  return table[shapeKey(rows, cols)] ?? MUON_NS_COEFFICIENTS;
}

/** p^K(σ): the scalar map one singular value goes through in K steps. */
export function nsScalarMap(sigma: number, c: NsCoefficients, steps: number): number {
  let x = sigma;
  for (let k = 0; k < steps; k++) {
    const x2 = x * x;
    x = x * (c[0] + x2 * (c[1] + c[2] * x2));
  }
  return x;
}

/** ‖NS_K(G) − polar(G)‖_F/‖polar(G)‖_F from the singular values of G/‖G‖_F (exact identity above). */
export function nsErrorFromSingularValues(s: ArrayLike<number>, c: NsCoefficients, steps: number): number {
  let e = 0;
  for (let i = 0; i < s.length; i++) e += (nsScalarMap(s[i], c, steps) - 1) ** 2;
  return Math.sqrt(e / s.length);
}

/** Singular values of G/‖G‖_F (row-major rows×cols). */
export function normalizedSingularValues(g: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const a = rows <= cols ? g : transposeDense(g, rows, cols);
  const { s } = rowJacobiSvd(a, Math.min(rows, cols), Math.max(rows, cols));
  let f = 0;
  for (let i = 0; i < g.length; i++) f += g[i] * g[i];
  const inv = 1 / (Math.sqrt(f) + 1e-300);
  return s.map((v) => v * inv);
}

/** Random test matrices of one shape: Gaussian, or heavy-tailed Student-t(ν) entries. */
export function randomMatrix(rng: Rng, rows: number, cols: number, kind: 'gaussian' | 'student-t', nu = 3): Float64Array {
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) {
    const z = rng.normal();
    if (kind === 'gaussian') a[i] = z;
    else {
      // t_ν = z / sqrt(χ²_ν/ν), χ²_ν as a sum of ν squared normals (integer ν)
      let chi = 0;
      for (let k = 0; k < nu; k++) chi += rng.normal() ** 2;
      a[i] = z / Math.sqrt(chi / nu);
    }
  }
  return a;
}

/** Singular values of `count` random matrices (half Gaussian, half Student-t) of one shape. */
export function sampleSingularValues(rng: Rng, rows: number, cols: number, count: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < count; i++) out.push(normalizedSingularValues(randomMatrix(rng, rows, cols, i % 2 === 0 ? 'gaussian' : 'student-t'), rows, cols));
  return out;
}

/** Mean orthogonalization error over a set of singular-value samples. */
export function meanNsError(samples: readonly ArrayLike<number>[], c: NsCoefficients, steps: number): number {
  let e = 0;
  for (const s of samples) e += nsErrorFromSingularValues(s, c, steps);
  return e / samples.length;
}

/** Fit (a, b, c) minimizing the mean error over the samples, Nelder–Mead from `start` (default Muon's). */
export function fitNsCoefficients(samples: readonly ArrayLike<number>[], steps: number, start: NsCoefficients = MUON_NS_COEFFICIENTS, maxEvaluations = 600): { coefficients: NsCoefficients; error: number } {
  // Guard: the iteration must keep every σ ∈ (0, 1] bounded (checked on a grid), else reject.
  const grid = Array.from({ length: 101 }, (_, i) => (i + 1) / 101);
  const objective = (x: Float64Array) => {
    const c: NsCoefficients = [x[0], x[1], x[2]];
    for (const s of grid) if (!(Math.abs(nsScalarMap(s, c, steps)) < 2)) return Infinity;
    return meanNsError(samples, c, steps);
  };
  const r = nelderMead(objective, start, { step: 0.2, maxEvaluations });
  return { coefficients: [r.x[0], r.x[1], r.x[2]], error: r.value };
}

/** Graph form: K quintic NS steps on a 2-D tensor (transposed internally when rows > cols). */
export function newtonSchulzGraph(b: Tensor, c: NsCoefficients, steps: number, eps = 1e-7): Tensor {
  if (b.rank !== 2) throw new Error(`newtonSchulzGraph: expects a matrix, got ${b}`);
  const tall = b.shape[0] > b.shape[1];
  let x = tall ? O.transpose(b) : b;
  x = O.div(x, O.add(O.sqrt(O.sum(O.mul(x, x))), eps));
  for (let k = 0; k < steps; k++) {
    const s = O.matmul(x, O.transpose(x));
    const poly = O.add(O.mul(s, c[1]), O.mul(O.matmul(s, s), c[2]));
    x = O.add(O.mul(x, c[0]), O.matmul(poly, x));
  }
  return tall ? O.transpose(x) : x;
}

/** Shapes (rows × cols with rows ≤ cols) the fitted table covers. */
export const FITTED_SHAPES: readonly [number, number][] = [
  [32, 32], [32, 128], [64, 64], [64, 128], [64, 192], [64, 256], [128, 128], [128, 384],
];

// `npx tsx src/core/optim/newton-schulz.ts` prints the fitted table above. (Checked by file name:
// inside a bundle such as dist/cli.js `require.main === module` holds for every module.)
if (typeof require !== 'undefined' && /newton-schulz\.[cm]?[jt]s$/.test(require.main?.filename ?? '')) {
  const rng = new Rng(1);
  for (const [m, n] of FITTED_SHAPES) {
    const samples = sampleSingularValues(rng, m, n, 64);
    const fit = fitNsCoefficients(samples, 5);
    const muon = meanNsError(samples, MUON_NS_COEFFICIENTS, 5);
    console.log(`  '${m}x${n}': [${fit.coefficients.map((v) => v.toFixed(4)).join(', ')}], // fit error ${fit.error.toFixed(4)} vs Muon ${muon.toFixed(4)}`);
  }
}
