import { strict as assert } from 'node:assert';
import { CORES_PER_CPU_TRAINING, tensorConcurrency } from '../runtime/worker';

describe('tensor worker sizing @purejs', () => {
  it('runs one training per GPU and one per 8 CPU cores (at least one), and says why', () => {
    assert.equal(tensorConcurrency({ device: 'gpu' }, 64).count, 1);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 2).count, 1);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 1).count, 1);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 16).count, 16 / CORES_PER_CPU_TRAINING);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 23).count, 2);
    assert.match(tensorConcurrency({ device: 'cpu' }, 2).why, /2 CPU cores.*--concurrency overrides/);
  });
});
