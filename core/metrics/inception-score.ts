// Inception Score: exp(E_x KL(p(y|x) ‖ p(y))), mean and std over splits (10 by convention), in
// float64 from class probabilities.

export function inceptionScore(probs: ArrayLike<number>, classes: number, splits = 10): { mean: number; std: number } {
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n === 0) throw new Error(`${probs.length} probabilities do not form rows of ${classes} classes`);
  if (n < splits) throw new Error(`${n} images cannot be split ${splits} ways: use at least ${splits} images`);
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
