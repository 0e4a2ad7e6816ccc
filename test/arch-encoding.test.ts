import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { archCost } from '../core/arch/cost';
import {
  ArchError,
  describeCell,
  formatArch,
  parseArch,
  parseArchText,
  randomArch,
  vectorLength,
} from '../core/arch/encoding';
import { Rng } from '../core/rng';

describe('architecture encoding (reference vectors)', () => {
  it('round-trips every random vector of every stage @purejs', () => {
    const rng = new Rng(7);
    for (let stage = 0; stage < 4; stage++) {
      for (let i = 0; i < 50; i++) {
        const v = randomArch(stage, rng);
        assert.equal(v.length, vectorLength(stage));
        assert.deepEqual(formatArch(parseArch(v)), v);
      }
    }
  });

  it("uses the reference's fields and skip bit order: the lowest bit is the nearest earlier cell", () => {
    const cells = parseArch([1, 2, 2, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 2]);
    assert.deepEqual(cells[0], { conv: 'pre', norm: 'in', up: 'deconv', shortcut: true, skipIns: [] });
    assert.deepEqual(cells[1], {
      conv: 'post',
      norm: 'bn',
      up: 'bilinear',
      shortcut: false,
      skipIns: [true],
    });
    // cell 2, mask 2 = binary 10: from cell 0 only (mask 1 would be cell 1).
    assert.deepEqual(cells[2].skipIns, [true, false]);
    assert.deepEqual(parseArch([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])[2].skipIns, [false, true]);
    assert.deepEqual(parseArch([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3])[2].skipIns, [true, true]);
  });

  it('rejects wrong lengths and out-of-range values, naming the cell and field', () => {
    assert.throws(
      () => parseArch([0, 1, 0]),
      (e: Error) =>
        e instanceof ArchError && /3 integers; expected 4 for one cell, 9 for two/.test(e.message),
    );
    assert.throws(() => parseArch([0, 1, 0, 1, 0]), /5 integers/);
    assert.throws(
      () => parseArch([0, 3, 0, 1]),
      /cell 0 norm \(position 1\) is 3; expected an integer in 0..2/,
    );
    assert.throws(
      () => parseArch([0, 0, 0, 0, 0, 0, 0, 0, 2]),
      /cell 1 skip-ins \(position 8\) is 2; expected an integer in 0..1/,
    );
    assert.throws(
      () => parseArch([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 4]),
      /cell 2 skip-ins \(position 13\) is 4; expected an integer in 0..3/,
    );
    assert.throws(() => parseArchText('0 1 x 1'), /"x" is not an integer/);
  });

  it('describes cells in words', () => {
    const [c0, c1] = parseArch([0, 1, 2, 0, 1, 2, 1, 1, 1]);
    assert.equal(
      describeCell(c0, 0),
      'cell 0: post-activation conv block, batch norm, stride-2 deconvolution, no in-cell shortcut',
    );
    assert.equal(
      describeCell(c1, 1),
      'cell 1: pre-activation conv block, instance norm, nearest-neighbour upsampling, with in-cell shortcut, skip-ins from cell 0',
    );
  });

  it('counts parameters and multiply-accumulates by hand for a one-cell generator', () => {
    // latent 2 → 1×1×1 map, one post cell, nearest, no norm, no shortcut, 1 output channel.
    const cost = archCost([0, 0, 1, 0], { latentDim: 2, gfDim: 1, bottomWidth: 1, channels: 1 });
    // l1: 2×1 + 1; conv1 3×3×1×1 + 1; conv2 + 1; out BN γβ 2; out conv 9 + 1.
    assert.equal(cost.params, 3 + 10 + 10 + 2 + 10);
    // l1 2; two 3×3 convs at 2×2: 2 × 4 × 9; out conv at 2×2: 36.
    assert.equal(cost.macs, 2 + 72 + 36);
    assert.equal(cost.outputSize, 2);
    const withDeconv = archCost([0, 0, 2, 1], { latentDim: 2, gfDim: 1, bottomWidth: 1, channels: 1 });
    // + deconv (4 + 1 params, 4 MACs) + shortcut deconv (5, 4) + 1×1 shortcut conv (2, 4).
    assert.equal(withDeconv.params - cost.params, 5 + 5 + 2);
    assert.equal(withDeconv.macs - cost.macs, 4 + 4 + 4);
  });

  it('`autogan arch describe` prints the cells and counts, and rejects a bad vector', () => {
    const cli = path.join(__dirname, '..', '..', 'bin', 'autogan.js');
    const ok = spawnSync(
      process.execPath,
      [cli, 'arch', 'describe', '1', '0', '1', '1', '1', '0', '1', '1', '1', '0', '2', '0', '0', '3'],
      { encoding: 'utf8' },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /32×32×3 output/);
    assert.match(
      ok.stdout,
      /cell 2: post-activation conv block, instance norm, bilinear upsampling, no in-cell shortcut, skip-ins from cells 0 and 1/,
    );
    assert.match(ok.stdout, /parameters: [\d,]+ \(4\.\d+ M\) at gf_dim 256/);
    const bad = spawnSync(process.execPath, [cli, 'arch', 'describe', '0', '1', '0', '1', '1'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /5 integers/);
  });
});
