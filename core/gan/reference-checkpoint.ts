// Turns a reference AutoGAN checkpoint (a PyTorch pickle, or an .npz with the state-dict names as
// keys) into a derived-architecture GanTrainer: the sizes are read from the weights' shapes (and
// checked against any the caller gives), then every tensor is mapped by reference-import.
import { readTorchState } from '../checkpoint/torch-state';
import type { NpyArray } from '../metrics/npz';
import { parseArch } from '../arch/encoding';
import type { GanConfig } from './config';
import {
  generatorLayout,
  importDiscriminator,
  importGenerator,
  ReferenceImportError,
  splitCheckpoint,
  type GeneratorLayout,
} from './reference-import';
import { DEFAULT_TRAIN, GanTrainer } from './trainer';

export interface ReferenceCheckpointOptions {
  arch: number[];
  /** Checked against the weights when given; read from them otherwise. */
  gfDim?: number;
  latentDim?: number;
  bottomWidth?: number;
  dfDim?: number;
  /** Use the EMA generator (`avg_gen_state_dict`) as the generator's weights. @default false */
  ema?: boolean;
}

export interface ImportedReference {
  trainer: GanTrainer;
  layout: GeneratorLayout;
  generatorFrom: string;
  discriminator: boolean;
  gan: GanConfig;
  skipped: string[];
}

function dims(g: Map<string, NpyArray>, what: string) {
  const l1 = g.get('l1.weight');
  const conv = g.get('to_rgb.2.weight');
  if (!l1 || !conv)
    throw new ReferenceImportError(`${what}: no l1.weight / to_rgb.2.weight: not an AutoGAN generator`);
  const [units, latentDim] = l1.shape;
  const [channels, gfDim] = conv.shape;
  const bottomWidth = Math.round(Math.sqrt(units / gfDim));
  if (bottomWidth * bottomWidth * gfDim !== units)
    throw new ReferenceImportError(`${what}: l1 has ${units} outputs, not bottom_width² × gf_dim (${gfDim})`);
  return { latentDim, gfDim, bottomWidth, channels };
}

function check(name: string, given: number | undefined, found: number): number {
  if (given !== undefined && given !== found)
    throw new ReferenceImportError(`--${name} is ${given} but the checkpoint's weights have ${found}`);
  return found;
}

/** Loads `file` and builds a derived trainer holding the reference's weights. */
export function importReferenceCheckpoint(file: string, opts: ReferenceCheckpointOptions): ImportedReference {
  parseArch(opts.arch);
  const groups = splitCheckpoint(readTorchState(file));
  const bare = groups.get('');
  let generatorFrom: string;
  let g: Map<string, NpyArray> | undefined;
  if (bare && bare.has('l1.weight')) {
    if (opts.ema)
      throw new ReferenceImportError(
        `${file}: a bare state dict has no EMA weights (avg_gen_state_dict); drop --ema`,
      );
    generatorFrom = 'state dict';
    g = bare;
  } else {
    generatorFrom = opts.ema ? 'avg_gen_state_dict' : 'gen_state_dict';
    g = groups.get(generatorFrom);
    if (!g)
      throw new ReferenceImportError(
        `${file}: no ${generatorFrom}; the file holds ${[...groups.keys()].map((k) => k || '(top-level tensors)').join(', ')}`,
      );
  }
  const what = `${file}: ${generatorFrom}`;
  const d = dims(g, what);
  const gan: GanConfig = {
    latentDim: check('latent-dim', opts.latentDim, d.latentDim),
    gfDim: check('gf-dim', opts.gfDim, d.gfDim),
    bottomWidth: check('bottom-width', opts.bottomWidth, d.bottomWidth),
    channels: d.channels,
    cells: (opts.arch.length - 4) / 5 + 1,
    dfDim: opts.dfDim ?? d.gfDim,
    dSpectralNorm: true,
    skipOut: 'with-skip-ins',
  };
  const gen = importGenerator(g, { arch: opts.arch, ...gan }, what);
  const dis = groups.get('dis_state_dict');
  let dTensors;
  if (dis) {
    const c1 = dis.get('block1.c1.weight_orig') ?? dis.get('block1.c1.weight');
    if (!c1) throw new ReferenceImportError(`${file}: dis_state_dict has no block1.c1 weight`);
    gan.dfDim = check('df-dim', opts.dfDim, c1.shape[0]);
    gan.dSpectralNorm = dis.has('l5.weight_orig');
    dTensors = importDiscriminator(
      dis,
      { dfDim: gan.dfDim, channels: gan.channels, cells: gan.cells },
      `${file}: dis_state_dict`,
    );
  }
  const used = new Set(['', 'gen_state_dict', 'avg_gen_state_dict', 'dis_state_dict']);
  const skipped = [...groups.keys()].filter((k) => !used.has(k));
  const trainer = GanTrainer.create(gan, { ...DEFAULT_TRAIN, emaDecay: 0 }, { seed: 0, arch: opts.arch });
  try {
    trainer.assignWeights({ g: gen.tensors, ...(dTensors ? { d: dTensors } : {}) });
  } catch (err) {
    trainer.dispose();
    throw err;
  }
  return { trainer, layout: generatorLayout(g), generatorFrom, discriminator: !!dTensors, gan, skipped };
}
