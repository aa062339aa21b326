// Benchmark objectives for zero-order global optimizers (CBXpy's names), each with its known minimizer.

export interface Objective {
  name: string;
  f(x: Float64Array): number;
  /** ∇f(x) written into `out` (for gradient-based baselines). */
  grad(x: Float64Array, out: Float64Array): void;
  /** The global minimizer for dimension d. */
  minimizer(d: number): Float64Array;
  /** Known minimum value. */
  minimum: number;
}

/** Shifted Rastrigin: Σ (x_k − b)² − A cos(2π(x_k − b)) + A, minimum 0 at x = b·1 (spec §1, A = 10, b = 1). */
export function rastrigin(shift = 1, A = 10): Objective {
  return {
    name: 'rastrigin',
    f(x) {
      let s = 0;
      for (let k = 0; k < x.length; k++) {
        const z = x[k] - shift;
        s += z * z - A * Math.cos(2 * Math.PI * z) + A;
      }
      return s;
    },
    grad(x, out) {
      for (let k = 0; k < x.length; k++) {
        const z = x[k] - shift;
        out[k] = 2 * z + 2 * Math.PI * A * Math.sin(2 * Math.PI * z);
      }
    },
    minimizer: (d) => new Float64Array(d).fill(shift),
    minimum: 0,
  };
}

/** Σ (x_k − shift)² and Σ cos(c (x_k − shift)), the two sums Ackley's value and gradient are built from. */
function ackleySums(x: Float64Array, shift: number, c: number): { sq: number; cs: number } {
  let sq = 0;
  let cs = 0;
  for (let k = 0; k < x.length; k++) {
    const z = x[k] - shift;
    sq += z * z;
    cs += Math.cos(c * z);
  }
  return { sq, cs };
}

/** Shifted Ackley: −a·exp(−b·√(mean z²)) − exp(mean cos(c z)) + a + e, minimum 0 at x = shift·1. */
export function ackley(shift = 1, a = 20, b = 0.2, c = 2 * Math.PI): Objective {
  return {
    name: 'ackley',
    f(x) {
      const d = x.length;
      const { sq, cs } = ackleySums(x, shift, c);
      return -a * Math.exp(-b * Math.sqrt(sq / d)) - Math.exp(cs / d) + a + Math.E;
    },
    grad(x, out) {
      const d = x.length;
      const { sq, cs } = ackleySums(x, shift, c);
      const r = Math.sqrt(sq / d);
      const e1 = r > 0 ? (a * b * Math.exp(-b * r)) / (d * r) : 0;
      const e2 = (Math.exp(cs / d) * c) / d;
      for (let k = 0; k < d; k++) out[k] = e1 * (x[k] - shift) + e2 * Math.sin(c * (x[k] - shift));
    },
    minimizer: (d) => new Float64Array(d).fill(shift),
    minimum: 0,
  };
}

export function objectiveByName(name: 'rastrigin' | 'ackley', shift: number): Objective {
  return name === 'rastrigin' ? rastrigin(shift) : ackley(shift);
}

/** ‖x − y‖_∞ */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}
