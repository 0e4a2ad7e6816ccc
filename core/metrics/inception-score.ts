// Inception Score: exp(E_x KL(p(y|x) ‖ p(y))), mean and std over splits (10 by convention), in
// float64 from class probabilities.

export function inceptionScore(
  probs: ArrayLike<number>,
  classes: number,
  splits = 10,
): { mean: number; std: number } {
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n === 0)
    throw new Error(`${probs.length} probabilities do not form rows of ${classes} classes`);
  if (n < splits)
    throw new Error(`${n} images cannot be split ${splits} ways: use at least ${splits} images`);
  const scores: number[] = [];
  for (let k = 0; k < splits; k++) {
    const lo = Math.floor((k * n) / splits);
    const hi = Math.floor(((k + 1) * n) / splits);
    const py = new Float64Array(classes);
    for (let i = lo; i < hi; i++) for (let c = 0; c < classes; c++) py[c] += probs[i * classes + c];
    for (let c = 0; c < classes; c++) py[c] /= hi - lo;
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let c = 0; c < classes; c++) {
        const p = probs[i * classes + c];
        if (p > 0) kl += p * (Math.log(p) - Math.log(py[c]));
      }
    }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std };
}

/**
 * Streaming Inception Score with memory flat in the number of images: per split it keeps only
 * Σ p·log p and the class sums, since Σᵢ Σ_c pᵢc log p̄_c = n Σ_c p̄_c log p̄_c. Gives the same
 * value as inceptionScore() over the same images in the same order.
 */
export class InceptionScoreAccumulator {
  private seen = 0;
  private readonly plogp: Float64Array;
  private readonly classSums: Float64Array[];
  private readonly bounds: number[];

  constructor(
    readonly classes: number,
    readonly total: number,
    readonly splits = 10,
  ) {
    if (total < splits)
      throw new Error(`${total} images cannot be split ${splits} ways: use at least ${splits} images`);
    this.plogp = new Float64Array(splits);
    this.classSums = Array.from({ length: splits }, () => new Float64Array(classes));
    this.bounds = Array.from({ length: splits + 1 }, (_, k) => Math.floor((k * total) / splits));
  }

  add(probs: ArrayLike<number>): void {
    const rows = probs.length / this.classes;
    for (let r = 0; r < rows; r++, this.seen++) {
      if (this.seen >= this.total) throw new Error(`more than the announced ${this.total} images`);
      let k = 0;
      while (this.seen >= this.bounds[k + 1]) k++;
      for (let c = 0; c < this.classes; c++) {
        const p = probs[r * this.classes + c];
        if (p > 0) this.plogp[k] += p * Math.log(p);
        this.classSums[k][c] += p;
      }
    }
  }

  result(): { mean: number; std: number } {
    if (this.seen !== this.total) throw new Error(`saw ${this.seen} of the announced ${this.total} images`);
    const scores = this.classSums.map((sums, k) => {
      const n = this.bounds[k + 1] - this.bounds[k];
      let cross = 0;
      for (const s of sums) if (s > 0) cross += (s / n) * Math.log(s / n);
      return Math.exp(this.plogp[k] / n - cross);
    });
    const mean = scores.reduce((a, b) => a + b, 0) / this.splits;
    return { mean, std: Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / this.splits) };
  }
}
