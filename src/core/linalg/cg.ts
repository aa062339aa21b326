// Preconditioned conjugate gradients for symmetric positive (semi)definite systems given as an
// operator. Works on singular but consistent systems (the iterates stay in the range when x0 = 0).
import { dot } from './dense';

export interface CgResult {
  x: Float64Array;
  iterations: number;
  /** Final ‖b − A x‖₂ (recursively updated). */
  residual: number;
  converged: boolean;
}

export interface CgOptions {
  /** Stop when ‖r‖ ≤ tol · ‖b‖. */
  tol?: number;
  maxIter?: number;
  /** Diagonal preconditioner: z = r / diag. */
  diag?: Float64Array;
  /** General SPD preconditioner z = M⁻¹ r (takes precedence over diag). */
  precondition?: (r: Float64Array, z: Float64Array) => void;
  x0?: Float64Array;
}

/** Solves A x = b where `apply(v, out)` writes A v into out. */
export function conjugateGradient(apply: (v: Float64Array, out: Float64Array) => void, b: Float64Array, opts: CgOptions = {}): CgResult {
  const n = b.length;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 10 * n;
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(n);
  const r = Float64Array.from(b);
  const ap = new Float64Array(n);
  if (opts.x0) {
    apply(x, ap);
    for (let i = 0; i < n; i++) r[i] -= ap[i];
  }
  const bnorm = Math.sqrt(dot(b, b));
  if (bnorm === 0) return { x: new Float64Array(n), iterations: 0, residual: 0, converged: true };
  const precond = (src: Float64Array, out: Float64Array) => {
    if (opts.precondition) opts.precondition(src, out);
    else if (opts.diag) for (let i = 0; i < n; i++) out[i] = src[i] / opts.diag[i];
    else out.set(src);
  };
  const z = new Float64Array(n);
  precond(r, z);
  const p = Float64Array.from(z);
  let rz = dot(r, z);
  let rnorm = Math.sqrt(dot(r, r));
  let it = 0;
  while (rnorm > tol * bnorm && it < maxIter) {
    apply(p, ap);
    const pap = dot(p, ap);
    if (!(pap > 0)) break; // direction of zero curvature: the system is solved as far as CG can
    const alpha = rz / pap;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
    }
    precond(r, z);
    const rzNew = dot(r, z);
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
    rnorm = Math.sqrt(dot(r, r));
    it++;
  }
  return { x, iterations: it, residual: rnorm, converged: rnorm <= tol * bnorm };
}
