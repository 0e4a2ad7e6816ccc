// Spearman's ρ and Kendall's τ-b against scipy.stats (scipy 1.17.1: spearmanr, kendalltau with its
// default tau-b), on the examples of scipy's own documentation and a tied case, values printed by
// scipy and pasted here.
import { strict as assert } from 'node:assert';
import { kendall, ranks, spearman } from '../core/metrics/rank-correlation';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe('rank correlations', () => {
  it('ranks average ties', () => {
    assert.deepEqual(ranks([10, 20, 10, 5]), [2.5, 4, 2.5, 1]);
  });

  it("Spearman's ρ equals scipy.stats.spearmanr", () => {
    close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233);
    close(spearman([1, 2, 3], [3, 2, 1]), -1);
  });

  it("Kendall's τ-b equals scipy.stats.kendalltau", () => {
    close(kendall([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.4714045207910316);
    close(kendall([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.7378647873726218);
  });

  it('says what is wrong with unpaired or too short input; a constant side has no correlation', () => {
    assert.throws(() => spearman([1, 2], [1]), /differ in length: 2 vs 1/);
    assert.throws(() => kendall([1], [1]), /at least 2 pairs/);
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
    assert.ok(Number.isNaN(kendall([1, 1, 1], [1, 2, 3])));
  });
});
