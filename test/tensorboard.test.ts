// TensorBoard event files, read back by TensorBoard's own reader (the `tensorboard` package's
// EventAccumulator, from the package index), not by our writer: scalars and images of a search and
// of a retrained candidate arrive with their tags, steps and values.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveGrid } from '../core/metrics/grid';
import { crc32c } from '../core/tensorboard/event-file';
import { writeRetrainEvents, writeSearchEvents } from '../services/tensorboard';
import type { IterationSummary } from '../workflows/search';
import { pythonWith, type PythonWith } from './helpers/python-package';

const READER = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0, 'images': 0})
acc.Reload()
tags = acc.Tags()
print(json.dumps({
  'scalars': {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags['scalars']},
  'images': {t: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in acc.Images(t)] for t in tags['images']},
}))
`;

interface Read {
  scalars: Record<string, Array<[number, number]>>;
  images: Record<string, Array<[number, number, number, number]>>;
}

function read(py: PythonWith, dir: string): Read {
  const r = spawnSync(py.python, ['-c', READER, dir], { encoding: 'utf8', env: py.env, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Read;
}

const f32 = (v: number) => Math.fround(v);

describe('TensorBoard event files', function () {
  this.timeout(900_000);
  let py: PythonWith;
  let root: string;
  before(function () {
    const got = pythonWith('tensorboard', 'tensorboard==2.21.0', (l) => console.error(l));
    if ('skip' in got) {
      if (process.env.CI) throw new Error(got.skip);
      this.skip();
    }
    py = got as PythonWith;
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-tb-'));
  });

  it('CRC-32C is the Castagnoli checksum TFRecord uses', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });

  it("a search's losses, rewards, entropy and stage grids are read by TensorBoard", () => {
    const dir = path.join(root, 'search');
    fs.mkdirSync(dir);
    const history: IterationSummary[] = [0, 1, 2].map((i) => ({
      iteration: i,
      stage: i < 2 ? 0 : 1,
      dLoss: -0.5 + i * 0.1,
      gLoss: 0.3 * i,
      meanReward: i === 0 ? null : 2 + i,
      entropy: 4 - i * 0.25,
      reset: i === 1,
    }));
    const img = tf.randomUniform([4, 8, 8, 1], -1, 1) as tf.Tensor4D;
    saveGrid(path.join(dir, 'samples-stage0-iter2.png'), img);
    saveGrid(path.join(dir, 'samples-stage1-iter3.png'), img);
    img.dispose();
    writeSearchEvents(dir, history);
    const got = read(py, dir);
    assert.deepEqual(
      got.scalars['search/d_loss'],
      history.map((h) => [h.iteration, f32(h.dLoss)]),
    );
    assert.deepEqual(got.scalars['search/mean_reward'], [
      [1, 3],
      [2, 4],
    ]);
    assert.deepEqual(
      got.scalars['search/entropy'],
      history.map((h) => [h.iteration, f32(h.entropy!)]),
    );
    assert.deepEqual(got.scalars['search/dynamic_reset'], [
      [0, 0],
      [1, 1],
      [2, 0],
    ]);
    const grid = fs.statSync(path.join(dir, 'samples-stage0-iter2.png')).size;
    // 4 images of 8×8 in a grid of 8 columns with 2-pixel padding: 82 × 12 pixels.
    assert.deepEqual(got.images['search/best_architecture_stage0'], [[2, 82, 12, grid]]);
    assert.equal(got.images['search/best_architecture_stage1'][0][0], 3);
    // Written again from the same history: the same file, not a second one.
    const before = fs.readdirSync(dir).filter((f) => f.includes('tfevents'));
    writeSearchEvents(dir, history);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('tfevents')),
      before,
    );
  });

  it("a retrained candidate's IS, FID, losses and samples, a retried chunk replacing its point", () => {
    const dir = path.join(root, 'retrain');
    fs.mkdirSync(dir);
    const img = tf.randomUniform([4, 8, 8, 1], -1, 1) as tf.Tensor4D;
    const samples = path.join(dir, 'samples-top1-step20.png');
    saveGrid(samples, img);
    img.dispose();
    writeRetrainEvents(dir, 'top1', { step: 10, dLoss: 1, gLoss: 2, wallTime: 1000 });
    writeRetrainEvents(dir, 'top1', {
      step: 20,
      dLoss: 0.9,
      gLoss: 1.8,
      is: 1.5,
      fid: 80,
      samples,
      wallTime: 1010,
    });
    // A retry of the last chunk writes its point again, with its own numbers.
    writeRetrainEvents(dir, 'top1', {
      step: 20,
      dLoss: 0.8,
      gLoss: 1.7,
      is: 1.6,
      fid: 75,
      samples,
      wallTime: 1020,
    });
    writeRetrainEvents(dir, 'top2', { step: 10, dLoss: 3, gLoss: 4, wallTime: 1000 });
    const got = read(py, dir);
    assert.deepEqual(got.scalars['top1/d_loss'], [
      [10, 1],
      [20, f32(0.8)],
    ]);
    assert.deepEqual(got.scalars['top1/inception_score'], [[20, f32(1.6)]]);
    assert.deepEqual(got.scalars['top1/fid'], [[20, 75]]);
    assert.deepEqual(got.scalars['top2/g_loss'], [[10, 4]]);
    assert.equal(got.images['top1/samples'].length, 1);
    assert.equal(got.images['top1/samples'][0][0], 20);
  });
});
