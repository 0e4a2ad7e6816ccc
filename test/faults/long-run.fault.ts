// `npm run test:faults`: a long tiny search in one process, as a worker runs it for days: the tensor
// count is the same after every iteration, process memory stops growing, and with `autogan gc`'s
// collector between iterations the store stays bounded.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { withSearchDefaults } from '../../pipeline/search-params';
import { searchIteration, startSearch } from '../helpers/search-driver';
import { tinySearch } from '../helpers/search-params';

function storeBytes(root: string): { objects: number; bytes: number } {
  const out = { objects: 0, bytes: 0 };
  const objects = path.join(root, 'objects');
  if (!fs.existsSync(objects)) return out;
  for (const d of fs.readdirSync(objects))
    for (const f of fs.readdirSync(path.join(objects, d))) {
      out.objects++;
      out.bytes += fs.statSync(path.join(objects, d, f)).size;
    }
  return out;
}

describe('a long search in one worker process @integration @faults', function () {
  this.timeout(900_000);

  it('keeps tensors, RSS and the store flat over 40 iterations', async () => {
    const iterations = 40;
    const p = withSearchDefaults(
      tinySearch(
        { control: 'c', gpu: 'g' },
        {
          maxIterations: iterations,
          growSteps: [2],
          sharedSteps: 10,
          controllerSteps: 2,
          checkpointEvery: 2,
          dynamicReset: { enabled: true, window: 10, threshold: 1e-3, measure: 'variance' },
        },
      ),
    );
    let s = await startSearch(p);
    const tensors: number[] = [];
    const rss: number[] = [];
    const store: number[] = [];
    const { collectGarbage } = await import('../../services/artifact-gc');
    for (let it = 0; it < iterations; it++) {
      s = (await searchIteration(p, s, it)).s;
      // What a run's durable state holds is all that must survive: collect the rest, as `autogan gc` does.
      fs.mkdirSync(path.join(p.artifacts, 'run'), { recursive: true });
      fs.writeFileSync(path.join(p.artifacts, 'run', 'search-state.json'), JSON.stringify({ state: s }));
      collectGarbage({ root: p.artifacts, minAgeMs: 0 });
      // A collection before each reading (npm run test:faults runs node with --expose-gc): RSS then
      // shows what is held, not garbage V8 has not got round to collecting yet.
      global.gc?.();
      tensors.push(tf.memory().numTensors);
      rss.push(process.memoryUsage().rss / 2 ** 20);
      store.push(storeBytes(p.artifacts).bytes);
    }
    const tail = (xs: number[]) => xs.slice(5); // after the grow and the warm-up
    console.log(
      `      tensors ${tensors[4]} → ${tensors[iterations - 1]}; RSS ${rss[4].toFixed(0)} → ${rss[iterations - 1].toFixed(0)} MiB; store ${(store[4] / 1024).toFixed(0)} → ${(store[iterations - 1] / 1024).toFixed(0)} KiB`,
    );
    assert.equal(
      new Set(tail(tensors)).size,
      1,
      `tf.memory().numTensors per iteration: ${tensors.join(' ')}`,
    );
    const r = tail(rss);
    const half = Math.floor(r.length / 2);
    const firstHalf = Math.max(...r.slice(0, half));
    const secondHalf = Math.max(...r.slice(half));
    assert.ok(secondHalf - firstHalf < 64, `RSS keeps growing: ${r.map((x) => x.toFixed(0)).join(' ')} MiB`);
    assert.ok(Math.max(...tail(store)) <= 2 * Math.min(...tail(store)), `store bytes: ${store.join(' ')}`);
  });
});
