import { strict as assert } from 'node:assert';
import {
  asyncSmallTrainings,
  CORES_PER_CPU_TRAINING,
  coresHeld,
  CoreSlots,
  holdCores,
  SMALL_WORK,
  stepWork,
  threadsFor,
} from '../activities/cpu-threads';
import { GpuSlots, hostEnv, workerGpus } from '../activities/gpu-placement';
import { planCpuThreads } from '../activities/tensor-call';
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
    assert.equal(tensorConcurrency({ device: 'gpu' }, 64, 4).count, 4);
    assert.match(tensorConcurrency({ device: 'gpu' }, 64, 4).why, /one training per GPU \(4 GPUs\)/);
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

  it('lets a small training on the async executor hold two cores (JavaScript and TensorFlow threads)', () => {
    assert.equal(coresHeld(1, false, 2), 1);
    assert.equal(coresHeld(1, true, 2), 2);
    assert.equal(coresHeld(1, true, 1), 1, 'never more than the worker has');
    assert.equal(coresHeld(2, false, 8), 2);
    const before = process.env.AUTOGAN_TFE_ASYNC;
    try {
      process.env.AUTOGAN_TFE_ASYNC = '1';
      assert.equal(asyncSmallTrainings(), true);
      assert.match(planCpuThreads(2), /async executor: 2 cores each/);
      delete process.env.AUTOGAN_TFE_ASYNC;
      assert.equal(asyncSmallTrainings(), false);
      assert.doesNotMatch(planCpuThreads(2), /async/);
    } finally {
      if (before === undefined) delete process.env.AUTOGAN_TFE_ASYNC;
      else process.env.AUTOGAN_TFE_ASYNC = before;
      planCpuThreads(undefined);
    }
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

describe('GPU placement @purejs', () => {
  it('takes the devices from --gpus, else from CUDA_VISIBLE_DEVICES, and refuses malformed lists', () => {
    assert.deepEqual(workerGpus('0,1', {}), ['0', '1']);
    assert.deepEqual(workerGpus(' 2 , 3', { CUDA_VISIBLE_DEVICES: '0' }), ['2', '3'], 'the flag wins');
    assert.deepEqual(workerGpus(undefined, { CUDA_VISIBLE_DEVICES: '4,5,6' }), ['4', '5', '6']);
    assert.deepEqual(workerGpus(undefined, { CUDA_VISIBLE_DEVICES: 'GPU-8f6e-12ab' }), ['GPU-8f6e-12ab']);
    assert.equal(workerGpus(undefined, {}), undefined, 'nothing set: hosts see what the worker sees');
    assert.equal(workerGpus(undefined, { CUDA_VISIBLE_DEVICES: '' }), undefined);
    assert.throws(() => workerGpus('0,x', {}), /--gpus is "0,x": expected device ids such as 0,1/);
    assert.throws(() => workerGpus('1,1', {}), /--gpus is "1,1": a device is listed twice/);
    assert.throws(
      () => workerGpus(undefined, { CUDA_VISIBLE_DEVICES: '-1' }),
      /CUDA_VISIBLE_DEVICES is "-1"/,
    );
  });

  it("gives each host one device and memory growth, keeping the user's own growth setting", () => {
    const env = hostEnv({ PATH: '/bin', CUDA_VISIBLE_DEVICES: '0,1' }, { gpu: '1' });
    assert.deepEqual(env, { PATH: '/bin', CUDA_VISIBLE_DEVICES: '1', TF_FORCE_GPU_ALLOW_GROWTH: 'true' });
    assert.equal(hostEnv({ TF_FORCE_GPU_ALLOW_GROWTH: 'false' }, {}).TF_FORCE_GPU_ALLOW_GROWTH, 'false');
    assert.equal(hostEnv({}, { threads: 2 }).TF_NUM_INTRAOP_THREADS, '2');
    // The worker's AUTOGAN_TFE_ASYNC=1 reaches one-thread hosts only; a large training's host says 0.
    assert.equal(
      hostEnv({ AUTOGAN_TFE_ASYNC: '1' }, { threads: 2, asyncExecutor: false }).AUTOGAN_TFE_ASYNC,
      '0',
    );
    assert.equal(hostEnv({}, { threads: 1, asyncExecutor: true }).AUTOGAN_TFE_ASYNC, '1');
    assert.equal(hostEnv({ AUTOGAN_TFE_ASYNC: '1' }, {}).AUTOGAN_TFE_ASYNC, '1', 'no plan: as is');
    assert.equal(hostEnv({ CUDA_VISIBLE_DEVICES: '3' }, {}).CUDA_VISIBLE_DEVICES, '3', 'no placement: as is');
  });

  it('hands out each device to one call at a time, first free first', () => {
    const slots = new GpuSlots(['0', '1', '2']);
    assert.equal(slots.take(), '0');
    assert.equal(slots.take(), '1');
    slots.give('0');
    assert.equal(slots.take(), '0', 'the lowest free device first');
    assert.equal(slots.take(), '2');
    assert.equal(slots.take(), undefined, 'all held');
    slots.give('1');
    slots.give('1');
    assert.equal(slots.take(), '1');
    assert.equal(slots.take(), undefined, 'a device given back twice is still one device');
  });
});
