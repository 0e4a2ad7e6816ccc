// Built-in dataset steps. Light enough to show the whole path YAML → plan → workflow → activity.
import { Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../core/backend';
import { openDataset } from '../core/datasets';
import type { StepInput, StepOutput } from '../pipeline/plan';
import { asNonRetryable, badInput } from './errors';
import { checkedWith } from './step-input';

export async function datasetInspect(input: StepInput): Promise<StepOutput> {
  const w = checkedWith<{ shards: number; limit?: number }>('dataset.inspect', input);
  try {
    const ds = openDataset(input.spec.dataset);
    const count = Math.min(ds.count, w.limit ?? ds.count);
    const per = Math.ceil(count / w.shards);
    const shards = [];
    for (let i = 0; i * per < count; i++)
      shards.push({ index: i, start: i * per, end: Math.min(count, (i + 1) * per) });
    return {
      name: ds.name,
      count,
      shape: [ds.height, ds.width, ds.channels],
      files: ds.files,
      shards,
    };
  } catch (err) {
    throw asNonRetryable(err);
  }
}

export async function datasetStats(input: StepInput): Promise<StepOutput> {
  const w = checkedWith<{ shard: { start: number; end: number }; batchSize: number }>('dataset.stats', input);
  const backend = await useBackend(input.spec.backend);
  try {
    const ds = openDataset(input.spec.dataset);
    const { start, end } = w.shard;
    if (end <= start || end > ds.count)
      throw badInput(`shard [${start}, ${end}) is outside the dataset's ${ds.count} images`);
    let sum = 0;
    let sumSq = 0;
    let min = Infinity;
    let max = -Infinity;
    const pixelsPerImage = ds.height * ds.width * ds.channels;
    for (let i = start; i < end; i += w.batchSize) {
      const n = Math.min(w.batchSize, end - i);
      const [s, s2, lo, hi] = tf.tidy(() => {
        const x = tf.tensor1d(ds.read(i, n));
        return [x.sum(), x.square().sum(), x.min(), x.max()].map((t) => t.dataSync()[0]);
      });
      sum += s;
      sumSq += s2;
      min = Math.min(min, lo);
      max = Math.max(max, hi);
      Context.current().heartbeat({ done: i + n - start, total: end - start });
    }
    const count = (end - start) * pixelsPerImage;
    const mean = sum / count;
    return {
      count: end - start,
      mean,
      std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)),
      min,
      max,
      backend: backend.package,
    };
  } catch (err) {
    throw asNonRetryable(err);
  }
}
