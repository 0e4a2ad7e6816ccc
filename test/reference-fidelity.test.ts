// Agreement with the AutoGAN reference (TAMU-VITA/AutoGAN): golden outputs of its PyTorch code with
// random weights (test/fixtures/reference, made by tools/reference-fixtures/make_autogan_fixtures.py)
// are imported through the same mapping `autogan import reference` uses, and our generator,
// discriminator and controller must reproduce them to 1e-5 relative error.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cellChoiceCounts } from '../core/arch/encoding';
import { Controller, type Beam, type ControllerSample } from '../core/controller/controller';
import type { GanConfig } from '../core/gan/config';
import { discriminate, refreshSpectralNorm } from '../core/gan/discriminator';
import { generate, generatorSpecs } from '../core/gan/generator';
import {
  importController,
  importDiscriminator,
  importGenerator,
  PUBLISHED_ARCHS,
  ReferenceImportError,
  type MappedTensor,
} from '../core/gan/reference-import';
import { DEFAULT_TRAIN, GanTrainer } from '../core/gan/trainer';
import { applyUpdates, evalContext, trainingContext } from '../core/nn/layers';
import { ParamStore } from '../core/nn/params';
import { readNpz, type NpyArray } from '../core/metrics/npz';
import { projectRoot } from '../core/paths';
import { relErr } from './helpers/relative-error';

const DIR = path.join(projectRoot(), 'test', 'fixtures', 'reference');
const TOL = 1e-5;

interface Case {
  name: string;
  file: string;
  kind: string;
  arch?: number[];
  stage?: number;
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { cases: Case[] };

/** The arrays under `prefix/` with the prefix removed. */
function group(arrays: Map<string, NpyArray>, prefix: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [k, v] of arrays) if (k.startsWith(`${prefix}/`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}

/** NCHW fixture array → NHWC values. */
function nhwc(a: NpyArray): Float64Array {
  const [n, c, h, w] = a.shape;
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          out[((i * h + y) * w + x) * c + k] = a.data[((i * c + k) * h + y) * w + x];
  return out;
}

function nhwcTensor(a: NpyArray): tf.Tensor4D {
  const [n, c, h, w] = a.shape;
  return tf.tensor4d(Float32Array.from(nhwc(a)), [n, h, w, c]);
}

function assertClose(ours: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = TOL): void {
  const e = relErr(ours, ref);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} > ${tol}`);
}

function storeFrom(specs: ReturnType<typeof generatorSpecs>, tensors: MappedTensor[]): ParamStore {
  const p = new ParamStore(specs, null);
  const given = new Set(tensors.map((t) => t.name));
  const missing = p.names().filter((n) => !given.has(n));
  assert.deepEqual(missing, [], 'the import covers every parameter and buffer');
  for (const t of tensors) {
    const v = tf.tensor(t.values, t.shape);
    p.get(t.name).assign(v);
    v.dispose();
  }
  return p;
}

const GEN: Omit<GanConfig, 'cells'> = {
  latentDim: 16,
  gfDim: 8,
  dfDim: 8,
  bottomWidth: 4,
  channels: 3,
  dSpectralNorm: true,
};

describe('agreement with the reference PyTorch code (golden fixtures)', () => {
  const genCases = manifest.cases.filter((c) => c.kind.startsWith('generator'));

  it('covers at least 8 generator architectures, the paper top-1 and every choice of every field', () => {
    const archs = genCases.filter((c) => c.arch).map((c) => c.arch!);
    assert.ok(archs.length >= 8);
    assert.ok(archs.some((a) => a.join(' ') === PUBLISHED_ARCHS['autogan-cifar10-a'].join(' ')));
    for (const [pos, values] of [
      [0, [0, 1]],
      [1, [0, 1, 2]],
      [2, [0, 1, 2]],
      [3, [0, 1]],
      [13, [0, 1, 2, 3]],
    ] as Array<[number, number[]]>)
      for (const v of values)
        assert.ok(
          archs.some((a) => a[pos] === v),
          `position ${pos} value ${v}`,
        );
  });

  for (const c of genCases) {
    it(`generator ${c.name}: eval and train outputs and BN running statistics`, () => {
      const arrays = readNpz(path.join(DIR, c.file));
      const arch = c.arch ?? PUBLISHED_ARCHS['autogan-cifar10-a'];
      const config: GanConfig = { ...GEN, cells: (arch.length - 4) / 5 + 1 };
      const { layout, tensors } = importGenerator(group(arrays, 'gen'), { arch, ...GEN });
      assert.equal(layout, c.kind === 'generator_model_a' ? 'fixed' : 'supernet');
      const before = tf.memory().numTensors;
      const p = storeFrom(generatorSpecs(config, arch), tensors);
      const z = tf.tensor2d(
        Float32Array.from(arrays.get('z')!.data),
        arrays.get('z')!.shape as [number, number],
      );
      const evalOut = tf.tidy(() => generate(p, config, arch, z, evalContext()));
      assertClose(evalOut.dataSync(), nhwc(arrays.get('out_eval')!), 'eval output');
      const ctx = trainingContext();
      const trainOut = tf.tidy(() => {
        const out = generate(p, config, arch, z, ctx);
        ctx.updates.forEach((u) => tf.keep(u.value));
        return out;
      });
      assertClose(trainOut.dataSync(), nhwc(arrays.get('out_train')!), 'train output');
      applyUpdates(ctx);
      // Running statistics after the train forward (unbiased variance, momentum 0.1).
      const after = group(arrays, 'after_train');
      assert.ok(after.size > 0);
      for (const [key, ref] of after) {
        const m = /^(.*)\.running_(mean|var)$/.exec(key)!;
        const ours = refBnName(m[1], layout);
        assertClose(p.get(`${ours}.${m[2]}`).dataSync(), ref.data, key);
      }
      [evalOut, trainOut, z].forEach((t) => t.dispose());
      p.dispose();
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    });
  }

  it('the paper top-1 passes the skip-ins of cell 2 on to cell 3 (the default) and differs without them', () => {
    const c = genCases.find((x) => x.name === 'gen_search_top1')!;
    const arrays = readNpz(path.join(DIR, c.file));
    const config: GanConfig = { ...GEN, cells: 3, skipOut: 'before-skip-ins' };
    const p = storeFrom(
      generatorSpecs(config, c.arch!),
      importGenerator(group(arrays, 'gen'), { arch: c.arch!, ...GEN }).tensors,
    );
    const z = tf.tensor2d(Float32Array.from(arrays.get('z')!.data), [4, 16]);
    const out = tf.tidy(() => generate(p, config, c.arch!, z, evalContext()));
    assert.ok(
      relErr(out.dataSync(), nhwc(arrays.get('out_eval')!)) > 1e-3,
      "the paper's reading is a different network",
    );
    tf.dispose([out, z]);
    p.dispose();
  });

  for (const stage of [0, 1, 2]) {
    it(`discriminator stage ${stage}: eval output, two power iterations per D step, the D loss and its gradients`, () => {
      const arrays = readNpz(path.join(DIR, `dis_stage${stage}.npz`));
      const gan: GanConfig = { ...GEN, cells: 3 };
      const t = GanTrainer.create(gan, { ...DEFAULT_TRAIN }, { seed: 0, stage });
      const dTensors = importDiscriminator(group(arrays, 'dis'), { dfDim: 8, channels: 3, cells: 3 });
      for (const m of dTensors) {
        const v = tf.tensor(m.values, m.shape);
        t.D.get(m.name).assign(v);
        v.dispose();
      }
      const real = nhwcTensor(arrays.get('x_real')!);
      const fake = nhwcTensor(arrays.get('x_fake')!);
      const evalOut = tf.tidy(() => discriminate(t.D, gan, stage, real));
      assertClose(evalOut.dataSync(), arrays.get('out_eval')!.data, 'eval output');
      // The first training forward: one power iteration, then D(real).
      const check = (after: string) => {
        for (const [mod, u] of group(arrays, `u_${after}`))
          assertClose(t.D.get(`${ourLayer(mod)}.sn_u`).dataSync(), u.data, `u ${after} ${mod}`);
      };
      const snapshot = new Map(t.D.names().map((n) => [n, t.D.get(n).clone()]));
      refreshSpectralNorm(t.D, gan, stage);
      check('after1');
      const train1 = tf.tidy(() => discriminate(t.D, gan, stage, real));
      assertClose(train1.dataSync(), arrays.get('out_train1')!.data, 'train output 1');
      refreshSpectralNorm(t.D, gan, stage);
      check('after2');
      const train2 = tf.tidy(() => discriminate(t.D, gan, stage, fake));
      assertClose(train2.dataSync(), arrays.get('out_train2')!.data, 'train output 2');
      // The same two iterations inside the trainer's D step, with its loss and gradients.
      for (const [n, v] of snapshot) t.D.get(n).assign(v);
      const { loss, grads } = t.discriminatorGradients(real, fake);
      assertClose(loss.dataSync(), arrays.get('dstep/d_loss')!.data, 'D loss');
      check('after2');
      const used = new Set(Object.keys(grads));
      for (const [key, g] of group(arrays, 'dstep/grad')) {
        const m = /^(.*)\.(weight_orig|bias)$/.exec(key)!;
        const name = `${ourLayer(m[1])}.${m[2] === 'bias' ? 'b' : 'w'}`;
        if (!used.has(name)) {
          assert.ok(
            g.data.every((x) => x === 0),
            `${key} is used by the reference but not by us`,
          );
          continue;
        }
        const ours = mappedGradient(grads[name]);
        assertClose(ours, g.data, `gradient of ${key}`);
      }
      tf.dispose([evalOut, train1, train2, real, fake, loss, ...Object.values(grads), ...snapshot.values()]);
      t.dispose();
    });
  }

  for (const stage of [0, 1, 2]) {
    it(`controller stage ${stage}: log-probs, entropies, REINFORCE loss and the weights after three Adam steps`, () => {
      const arrays = readNpz(path.join(DIR, `ctrl_stage${stage}.npz`));
      const tokens = cellChoiceCounts(stage);
      const ctrl = Controller.create(
        {
          cells: [stage],
          hiddenSize: 16,
          lr: 3.5e-4,
          beta1: 0,
          beta2: 0.9,
          entropyCoeff: 1e-3,
          baselineDecay: 0.9,
        },
        1,
      );
      for (const m of importController(group(arrays, 'ctrl'), { hiddenSize: 16, tokens })) {
        const v = tf.tensor(m.values, m.shape);
        ctrl.params.get(m.name).assign(v);
        v.dispose();
      }
      const beams = beamsOf(arrays, stage);
      for (const step of [1, 2, 3]) {
        const archs = arrays.get(`step${step}/archs`)!.data;
        const actions = Array.from(archs.slice(archs.length - tokens.length));
        const sel = arrays.get(`step${step}/selected_idx`);
        const sample = { actions, beam: sel ? sel.data[0] : null } as Pick<
          ControllerSample,
          'actions' | 'beam'
        >;
        const ev = ctrl.evaluate([sample], beams);
        const refLogp = arrays.get(`step${step}/selected_log_probs`)!.data;
        assertClose([ev.logProb[0]], [refLogp.reduce((a, b) => a + b, 0)], `step ${step} log-prob`);
        assertClose(ev.entropies[0], arrays.get(`step${step}/entropies`)!.data, `step ${step} entropies`);
        const score = arrays.get(`step${step}/is_score`)!.data[0];
        const full: ControllerSample = {
          arch: Array.from(archs),
          actions,
          beam: sample.beam,
          logProb: ev.logProb[0],
          entropy: ev.entropy[0],
          entropies: ev.entropies[0],
          h: [],
          c: [],
        };
        const u = ctrl.update([full], [score], beams);
        assertClose(
          [u.loss],
          arrays.get(`step${step}/loss`)!.data,
          `step ${step} loss`,
          step === 1 ? 0 : TOL,
        );
        assertClose(ctrl.baseline!, arrays.get(`step${step}/baseline`)!.data, `step ${step} baseline`);
        for (const m of importController(group(arrays, `step${step}/state`), { hiddenSize: 16, tokens }))
          // Adam divides by √v: where a gradient is near eps, float32 rounding in it moves the step by
          // up to lr, so the weights after the steps get a looser bound than the forward values.
          assertClose(ctrl.params.get(m.name).dataSync(), m.values, `step ${step} ${m.name}`, 1e-4);
      }
      ctrl.dispose();
    });
  }

  it('names a missing, unknown or mis-shaped key', () => {
    const arrays = group(readNpz(path.join(DIR, 'gen_model_a.npz')), 'gen');
    const arch = PUBLISHED_ARCHS['autogan-cifar10-a'];
    const without = new Map(arrays);
    without.delete('cell2.c1.weight');
    assert.throws(() => importGenerator(without, { arch, ...GEN }), /missing key cell2\.c1\.weight/);
    const extra = new Map(arrays).set('cell2.mystery', arrays.get('l1.bias')!);
    assert.throws(() => importGenerator(extra, { arch, ...GEN }), /unknown key cell2\.mystery/);
    assert.throws(
      () => importGenerator(arrays, { arch, ...GEN, gfDim: 16 }),
      /l1\.weight has shape \[128,16\], expected \[256,16\]/,
    );
    assert.throws(
      () => importGenerator(arrays, { arch: PUBLISHED_ARCHS['autogan-cifar10-c'], ...GEN }),
      (e: Error) => e instanceof ReferenceImportError && /cell1.*batch norm/.test(e.message),
    );
  });
});

/** Our layer name for a reference discriminator module (`block2.c_sc` → `d.block1.sc`). */
function ourLayer(mod: string): string {
  if (mod === 'l5') return 'd.out';
  const m = /^block(\d)\.(c1|c2|c_sc)$/.exec(mod)!;
  return `d.block${Number(m[1]) - 1}.${m[2] === 'c_sc' ? 'sc' : m[2]}`;
}

/** Our gradient in the reference's layout (HWIO → OIHW; [in, 1] → [1, in]). */
function mappedGradient(g: tf.Tensor): Float64Array {
  const v = g.dataSync();
  if (g.rank === 4) {
    const [k, , cin, cout] = g.shape;
    const out = new Float64Array(v.length);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++)
        for (let y = 0; y < k; y++)
          for (let x = 0; x < k; x++)
            out[((o * cin + i) * k + y) * k + x] = v[((y * k + x) * cin + i) * cout + o];
    return out;
  }
  return Float64Array.from(v);
}

/** Our BN layer name for a reference BN module on the given path. */
function refBnName(mod: string, layout: string): string {
  if (mod === 'to_rgb.0') return 'g.out.bn';
  const fixed = /^cell(\d)\.n(\d)$/.exec(mod);
  if (fixed && layout === 'fixed') return `g.cell${Number(fixed[1]) - 1}.pre${fixed[2]}.bn`;
  const m = /^cell(\d)\.(pre|post)_conv(\d)\.bn$/.exec(mod)!;
  return `g.cell${Number(m[1]) - 1}.${m[2]}${m[3]}.bn`;
}

function beamsOf(arrays: Map<string, NpyArray>, stage: number): Beam[] | undefined {
  if (stage === 0) return undefined;
  const hx = arrays.get('prev/hx')!;
  const cx = arrays.get('prev/cx')!;
  const archs = arrays.get('prev/archs')!;
  const [n, H] = hx.shape;
  const len = archs.shape[1];
  return Array.from({ length: n }, (_, i) => ({
    arch: Array.from(archs.data.slice(i * len, (i + 1) * len)),
    h: Array.from(hx.data.slice(i * H, (i + 1) * H)),
    c: Array.from(cx.data.slice(i * H, (i + 1) * H)),
  }));
}
