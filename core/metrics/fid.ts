// Fréchet Inception Distance between two Gaussians fitted to features, in float64:
//   ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2 Tr((Σ1 Σ2)^½).
// Tr((Σ1Σ2)^½) = Tr((Σ1^½ Σ2 Σ1^½)^½): both square roots are of symmetric PSD matrices, so two
// symmetric eigendecompositions (ml-matrix, float64) give it exactly. Eigenvalues that round-off
// makes slightly negative are clamped to 0; when the statistics are non-finite or singular to the
// point of NaN, ε·I is added to both covariances, as the reference FID code does.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface GaussianStats {
  mu: Float64Array;
  sigma: Float64Array; // row-major d×d
  dim: number;
}

/** Mean and (n−1)-normalised covariance of row vectors, in float64, one pass over batches. */
export class StatsAccumulator {
  private n = 0;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array;

  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  add(rows: ArrayLike<number>): void {
    const d = this.dim;
    const m = rows.length / d;
    for (let r = 0; r < m; r++) {
      const base = r * d;
      for (let i = 0; i < d; i++) {
        const xi = rows[base + i];
        this.sum[i] += xi;
        const o = i * d;
        for (let j = i; j < d; j++) this.outer[o + j] += xi * rows[base + j];
      }
    }
    this.n += m;
  }

  get count(): number {
    return this.n;
  }

  stats(): GaussianStats {
    const d = this.dim;
    if (this.n < 2) throw new Error(`statistics need at least 2 feature vectors, got ${this.n}`);
    const mu = new Float64Array(d);
    for (let i = 0; i < d; i++) mu[i] = this.sum[i] / this.n;
    const sigma = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = (this.outer[i * d + j] - this.n * mu[i] * mu[j]) / (this.n - 1);
        sigma[i * d + j] = v;
        sigma[j * d + i] = v;
      }
    }
    return { mu, sigma, dim: d };
  }
}

function toMatrix(a: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, a[i * d + j]);
  return m;
}

/** Symmetric PSD square root through an eigendecomposition (negative round-off clamped). */
function sqrtPsd(m: Matrix): Matrix {
  const sym = m.add(m.transpose()).mul(0.5);
  const e = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  const vals = e.realEigenvalues.map((x) => Math.sqrt(Math.max(0, x)));
  return v.mmul(Matrix.diag(vals)).mmul(v.transpose());
}

function traceSqrtProduct(s1: Matrix, s2: Matrix): number {
  const r = sqrtPsd(s1);
  const inner = r.mmul(s2).mmul(r);
  const e = new EigenvalueDecomposition(inner.add(inner.transpose()).mul(0.5), { assumeSymmetric: true });
  return e.realEigenvalues.reduce((a, x) => a + Math.sqrt(Math.max(0, x)), 0);
}

export function frechetDistance(a: GaussianStats, b: GaussianStats, eps = 1e-6): number {
  if (a.dim !== b.dim) throw new Error(`statistics have different dimensions: ${a.dim} and ${b.dim}`);
  const d = a.dim;
  let diff = 0;
  for (let i = 0; i < d; i++) diff += (a.mu[i] - b.mu[i]) ** 2;
  let s1 = toMatrix(a.sigma, d);
  let s2 = toMatrix(b.sigma, d);
  let tr = traceSqrtProduct(s1, s2);
  if (!Number.isFinite(tr)) {
    s1 = s1.add(Matrix.eye(d).mul(eps));
    s2 = s2.add(Matrix.eye(d).mul(eps));
    tr = traceSqrtProduct(s1, s2);
  }
  return diff + s1.trace() + s2.trace() - 2 * tr;
}
