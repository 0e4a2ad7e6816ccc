// Built-in dataset steps. Light enough to show the whole path YAML → plan → workflow → activity.
import { openDataset } from '../core/datasets';
import type { StepInput, StepOutput } from '../pipeline/plan';
import { asNonRetryable } from './errors';
import { activityHooks } from './heartbeat';
import { onBackend } from './on-backend';
import { checkedWith } from './step-input';
import { tensorCall } from './tensor-call';

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
  const backend = input.spec.backend;
  // In a tensor host like training: this process initializes no backend.
  return onBackend(
    backend,
    async () => ({
      ...(await tensorCall(
        'pixelStats',
        [input.spec.dataset, w.shard, w.batchSize],
        activityHooks(),
        backend,
      )),
    }),
    { inTensorHost: true },
  );
}
