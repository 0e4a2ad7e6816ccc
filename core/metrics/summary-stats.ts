// Plain summary statistics of number lists (the search's reward noise and spread, the probes'
// pooled variances): one definition each, so "std" means the same everywhere it is reported.

/** The arithmetic mean; 0 for an empty list. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/**
 * The variance: over n (population, the default) or over n − 1 (`sample`, unbiased for a sample's
 * spread); 0 for fewer than two values.
 */
export function variance(xs: readonly number[], opts: { sample?: boolean } = {}): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - (opts.sample ? 1 : 0));
}

/** The standard deviation (population unless `sample`). */
export function std(xs: readonly number[], opts: { sample?: boolean } = {}): number {
  return Math.sqrt(variance(xs, opts));
}
