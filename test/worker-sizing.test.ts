import { strict as assert } from 'node:assert';
import {
  CORES_PER_CPU_TRAINING,
  CoreSlots,
  holdCores,
  SMALL_WORK,
  stepWork,
  threadsFor,
} from '../activities/cpu-threads';
import { tensorConcurrency } from '../runtime/worker';
import type { Hooks } from '../services/search/context';

const demoSearch = {
  gan: { latentDim: 32, gfDim: 16, dfDim: 16, bottomWidth: 4, cells: 2, channels: 1 },
  train: { genBatchSize: 32, disBatchSize: 32 },
};
const demoRetrain = {
  arch: [1, 2, 0, 1, 0, 2, 1, 0, 0],
  gan: { latentDim: 32, gfDim: 32, dfDim: 32, bottomWidth: 4, channels: 1 },
  train: { genBatchSize: 32, disBatchSize: 32 },
};
const paperSearch = {
  gan: { latentDim: 128, gfDim: 128, dfDim: 64, bottomWidth: 4, cells: 3, channels: 3 },
  train: { genBatchSize: 128, disBatchSize: 64 },
};

describe('tensor worker sizing @purejs', () => {
  it('runs one training per GPU and, on CPU, one activity per core (each holding the cores it uses), and says why', () => {
    assert.equal(tensorConcurrency({ device: 'gpu' }, 64).count, 1);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 2).count, 2);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 1).count, 1);
    assert.equal(tensorConcurrency({ device: 'cpu' }, 16).count, 16);
    assert.match(
      tensorConcurrency({ device: 'cpu' }, 2).why,
      /2 CPU cores.*small training holds one core.*--concurrency overrides/,
    );
  });

  it('gives small networks one TensorFlow thread and large ones up to 8, from the step size', () => {
    // 32 images × 16² pixels × 16² channels² (the demo search) and × 32² (the demo retrain).
    assert.equal(stepWork(demoSearch), 32 * 256 * 256);
    assert.equal(stepWork(demoRetrain), 32 * 256 * 1024); // cells from the architecture: 2 → 16×16
    assert.equal(stepWork(paperSearch), 128 * 1024 * 128 * 128);
    assert.equal(threadsFor(demoSearch, 2), 1);
    assert.equal(threadsFor(demoRetrain, 16), 1);
    assert.equal(threadsFor(paperSearch, 2), 2);
    assert.equal(threadsFor(paperSearch, 64), CORES_PER_CPU_TRAINING);
    const wide = { ...demoRetrain, gan: { ...demoRetrain.gan, gfDim: 64 } };
    assert.ok(stepWork(wide)! >= SMALL_WORK);
    assert.equal(threadsFor(wide, 2), 2);
    // Unknown sizes count as large (the old behaviour: all the cores a training may use).
    assert.equal(stepWork({ gan: {} }), undefined);
    assert.equal(threadsFor(undefined, 4), 4);
    assert.equal(threadsFor({ ...demoRetrain, arch: [9, 9] }, 4), 4);
  });

  it('hands out cores first come first served: a large call waiting at the head is not overtaken', async () => {
    const slots = new CoreSlots(2);
    const order: string[] = [];
    const a = slots.request(1);
    await a.granted;
    const big = slots.request(8); // capped at all 2 cores; must wait for a
    const small = slots.request(1); // there is a free core, but big asked first
    void big.granted.then(() => order.push('big'));
    void small.granted.then(() => order.push('small'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, []);
    assert.equal(slots.available, 1);
    slots.release(1); // a done
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['big']);
    assert.equal(slots.available, 0);
    slots.release(2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['big', 'small']);
    assert.equal(slots.available, 1);
  });

  it('keeps a waiting activity alive and gives up its place when the activity is cancelled', async () => {
    const slots = new CoreSlots(1);
    const first = await holdCores(slots, 1, noWait());
    let alive = 0;
    let cancel = false;
    const hooks: Hooks = {
      progress: () => undefined,
      keepAlive: () => alive++,
      atStepBoundary: async () => {
        if (cancel) throw new Error('cancelled');
      },
    };
    const waiting = holdCores(slots, 1, hooks, 5);
    await new Promise((r) => setTimeout(r, 40));
    assert.ok(alive >= 2, `keepAlive called ${alive} times while waiting`);
    cancel = true;
    await assert.rejects(waiting, /cancelled/);
    first();
    first(); // a second release changes nothing
    assert.equal(slots.available, 1);
    const next = await holdCores(slots, 1, noWait());
    assert.equal(slots.available, 0);
    next();
    assert.equal(slots.available, 1);
  });
});

function noWait(): Hooks {
  return { progress: () => undefined, atStepBoundary: async () => undefined };
}
