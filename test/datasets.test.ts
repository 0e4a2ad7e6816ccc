import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openDataset, DatasetError } from '../core/datasets';
import { CIFAR10_FILE_BYTES, CIFAR10_FILES } from '../core/datasets/cifar10';
import { BatchLoader, prepareImages } from '../core/datasets/loader';
import { openMnist } from '../core/datasets/mnist';
import { encodePng } from '../core/datasets/png-folder';
import { openStl10 } from '../core/datasets/stl10';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ds-'));

describe('datasets', () => {
  it('CIFAR-10: reads records (label byte + CHW bytes) from the five batch files @purejs', () => {
    const dir = tmp();
    // Sparse full-size files (the reader checks the exact size), with two known records.
    for (const f of CIFAR10_FILES) {
      const fd = fs.openSync(path.join(dir, f), 'w');
      fs.ftruncateSync(fd, CIFAR10_FILE_BYTES);
      fs.closeSync(fd);
    }
    const rec = Buffer.alloc(3073);
    rec[0] = 7; // label
    rec[1 + 0 * 1024 + 5] = 255; // red, pixel 5 (row 0, col 5)
    rec[1 + 2 * 1024 + 32] = 51; // blue, pixel 32 (row 1, col 0)
    const fd = fs.openSync(path.join(dir, 'data_batch_2.bin'), 'r+');
    fs.writeSync(fd, rec, 0, 3073, 3 * 3073);
    fs.closeSync(fd);
    const ds = openDataset({ kind: 'cifar10', path: dir });
    assert.equal(ds.count, 50000);
    const i = 10000 + 3;
    assert.equal(ds.label(i), 7);
    const img = ds.read(i, 1);
    assert.equal(img[5 * 3 + 0], 1);
    assert.ok(Math.abs(img[32 * 3 + 2] - (51 / 127.5 - 1)) < 1e-6);
    assert.equal(img[0], -1);
  });

  it('CIFAR-10: names a missing or wrong-sized file with expected and found sizes', () => {
    const dir = tmp();
    assert.throws(
      () => openDataset({ kind: 'cifar10', path: dir }),
      (e: Error) => e instanceof DatasetError && /missing file .*data_batch_1\.bin/.test(e.message),
    );
    for (const f of CIFAR10_FILES) fs.writeFileSync(path.join(dir, f), Buffer.alloc(3073 * 2));
    assert.throws(
      () => openDataset({ kind: 'cifar10', path: dir }),
      /data_batch_1\.bin has 6146 bytes, expected 30730000/,
    );
  });

  it('STL-10: decodes column-major channels, resizes 96→48 by 2×2 averaging, reads lazily across both files @purejs', () => {
    const dir = tmp();
    const img = Buffer.alloc(3 * 96 * 96);
    // Green channel (c=1), row y=10, column x=20: column-major index x*96 + y; a 2×2 block at (20..21, 10..11).
    for (const [x, y] of [
      [20, 10],
      [21, 10],
      [20, 11],
      [21, 11],
    ])
      img[1 * 9216 + x * 96 + y] = 200;
    img[0 * 9216 + 0 * 96 + 1] = 100; // red at row 1, col 0 → averaged into (0, 0) with 3 zeros
    fs.writeFileSync(path.join(dir, 'train_X.bin'), Buffer.concat([Buffer.alloc(img.length), img]));
    fs.writeFileSync(path.join(dir, 'unlabeled_X.bin'), Buffer.concat([img, img, img]));
    const ds = openStl10(dir);
    assert.equal(ds.count, 5);
    assert.deepEqual([ds.height, ds.width, ds.channels], [48, 48, 3]);
    for (const i of [1, 4]) {
      const px = ds.read(i, 1);
      assert.ok(
        Math.abs(px[(5 * 48 + 10) * 3 + 1] - (200 / 127.5 - 1)) < 1e-6,
        `image ${i}: green at row 5, col 10`,
      );
      assert.ok(Math.abs(px[0] - (25 / 127.5 - 1)) < 1e-6);
    }
    assert.equal(ds.read(0, 1)[(5 * 48 + 10) * 3 + 1], -1);
    fs.writeFileSync(path.join(dir, 'unlabeled_X.bin'), Buffer.alloc(1000));
    assert.throws(
      () => openStl10(dir),
      /unlabeled_X\.bin has 1000 bytes, expected a non-zero multiple of 27648/,
    );
  });

  it('PNG folder: reads images in name order, rejects mismatched sizes and non-PNG files', () => {
    const dir = tmp();
    const px = (v: number) => new Float32Array(4 * 4 * 3).fill(v);
    fs.writeFileSync(path.join(dir, 'b.png'), encodePng(px(1), 4, 4, 3));
    fs.writeFileSync(path.join(dir, 'a.png'), encodePng(px(-1), 4, 4, 3));
    const ds = openDataset({ kind: 'folder', path: dir });
    assert.equal(ds.count, 2);
    assert.equal(ds.read(0, 1)[0], -1);
    assert.equal(ds.read(1, 1)[0], 1);
    fs.writeFileSync(path.join(dir, 'c.png'), encodePng(new Float32Array(8 * 8 * 3), 8, 8, 3));
    fs.writeFileSync(path.join(dir, 'd.png'), 'text');
    const all = openDataset({ kind: 'folder', path: dir });
    assert.throws(() => all.read(2, 1), /c\.png is 8×8, expected 4×4/);
    assert.throws(() => all.read(3, 1), /d\.png is not a readable PNG/);
  });

  it('embedded digits: 10,000 real MNIST digits, padded to 32 and resized, 1 or 3 channels @purejs', () => {
    const ds = openMnist();
    assert.equal(ds.count, 10000);
    assert.deepEqual(
      new Set(Array.from({ length: 10 }, (_, i) => ds.label(i))).size,
      10,
      'the first ten are one of each digit',
    );
    tf.tidy(() => {
      const x = prepareImages(ds.read(0, 2), 2, 28, 28, 1, 16, 3);
      assert.deepEqual(x.shape, [2, 16, 16, 3]);
      const v = x.dataSync();
      assert.ok(v.every((p) => p >= -1 && p <= 1));
      assert.equal(v[0], -1, 'the padded border is background');
    });
  });

  it('batch loader: seeded shuffling, and a saved state resumes the same batch sequence', () => {
    const opts = { batchSize: 8, imageSize: 8, channels: 1, limit: 40 };
    const a = new BatchLoader(openMnist(), opts, 3);
    const seq = () => tf.tidy(() => Array.from(a.next().sum().dataSync()));
    seq();
    const saved = a.state();
    const expected = [seq(), seq(), seq(), seq(), seq(), seq()]; // crosses an epoch boundary
    const b = new BatchLoader(openMnist(), opts, saved);
    const got = Array.from({ length: 6 }, () => tf.tidy(() => Array.from(b.next().sum().dataSync())));
    assert.deepEqual(got, expected);
    assert.equal(b.state().epoch, 1);
    const c = new BatchLoader(openMnist(), opts, 4);
    assert.notDeepEqual(
      tf.tidy(() => Array.from(c.next().sum().dataSync())),
      expected[0],
    );
  });
});
