// A training step whose loss is NaN or infinite. Nothing is written after it: the attempt stops
// before its next checkpoint, and a retry resumes from the last good one (a bounded number of
// times, activities/errors.ts), then the run fails with a message naming the step.
export class NumericalFault extends Error {
  constructor(
    readonly step: number,
    readonly losses: { dLoss: number; gLoss?: number },
    where = '',
  ) {
    const what = [
      `D loss ${losses.dLoss}`,
      ...(losses.gLoss !== undefined ? [`G loss ${losses.gLoss}`] : []),
    ];
    super(`non-finite loss at D step ${step}${where ? ` of ${where}` : ''} (${what.join(', ')})`);
    this.name = 'NumericalFault';
  }

  /** The same fault, with where it happened (iteration, phase, candidate) added by the caller. */
  at(where: string): NumericalFault {
    return new NumericalFault(this.step, this.losses, where);
  }
}

/** Throws a NumericalFault unless every loss of the step is finite. */
export function checkFinite(step: number, losses: { dLoss: number; gLoss?: number }): void {
  if (!Number.isFinite(losses.dLoss) || (losses.gLoss !== undefined && !Number.isFinite(losses.gLoss)))
    throw new NumericalFault(step, losses);
}
