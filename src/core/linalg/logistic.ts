// Numerically stable scalar pieces of logistic models.

/** σ(z) = 1 / (1 + e^{−z}) without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^{z}) (softplus) without overflow; ≈ z for large z, ≈ e^{z} for very negative z. */
export function log1pExp(z: number): number {
  if (z > 0) return z + Math.log1p(Math.exp(-z));
  return Math.log1p(Math.exp(z));
}
