// The study's statistics against scipy 1.17.1 (stats.ttest_rel, stats.t.sf, stats.beta.cdf), values
// printed by scipy and pasted here; the bootstrap interval by its defining properties.
import { strict as assert } from 'node:assert';
import {
  bootstrapMeanInterval,
  incompleteBeta,
  pairedTTest,
  studentTwoSidedP,
} from '../core/metrics/inference';

const close = (a: number | null, b: number, tol = 1e-9) =>
  assert.ok(a !== null && Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('study statistics', () => {
  it('the incomplete beta function equals scipy.stats.beta.cdf', () => {
    close(incompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658);
    close(incompleteBeta(0.9, 10, 0.5), 0.15164090963470994);
  });

  it("Student's two-sided p equals 2·scipy.stats.t.sf", () => {
    close(studentTwoSidedP(2.5, 3), 0.08770664700806556);
    close(studentTwoSidedP(0.3, 10), 0.7703206075657986);
    close(studentTwoSidedP(12, 1), 0.052929352119179755);
  });

  it('the paired t-test equals scipy.stats.ttest_rel', () => {
    const a = pairedTTest([7.9, 8.1, 7.7, 8.3], [7.5, 7.9, 7.8, 7.6]);
    close(a.t, 1.7822655773580134);
    close(a.p, 0.1727242567566829);
    assert.equal(a.df, 3);
    const b = pairedTTest([6.46, 6.2, 6.9], [6.33, 6.4, 6.1]);
    close(b.t, 0.8271456844533467);
    close(b.p, 0.4951329814080242);
    close(b.meanDifference, (6.46 + 6.2 + 6.9 - 6.33 - 6.4 - 6.1) / 3);
  });

  it('a test without spread or pairs has no p-value; unpaired input is an error', () => {
    assert.equal(pairedTTest([1, 2], [0, 1]).p, null); // every difference is 1
    assert.equal(pairedTTest([1], [0]).p, null);
    assert.throws(() => pairedTTest([1, 2], [1]), /2 values against 1/);
  });

  it('the bootstrap interval holds the mean, stays inside the values, and is reproducible', () => {
    const xs = [6.1, 6.4, 7.0, 6.6, 5.9];
    const [lo, hi] = bootstrapMeanInterval(xs)!;
    const m = xs.reduce((a, b) => a + b) / xs.length;
    assert.ok(lo < m && m < hi, `${lo} < ${m} < ${hi}`);
    assert.ok(lo >= 5.9 && hi <= 7.0);
    assert.deepEqual(bootstrapMeanInterval(xs), [lo, hi]);
    const wider = bootstrapMeanInterval(xs, { level: 0.99 })!;
    assert.ok(wider[0] <= lo && wider[1] >= hi);
    assert.deepEqual(bootstrapMeanInterval([3, 3, 3]), [3, 3]);
    assert.equal(bootstrapMeanInterval([]), null);
  });
});
