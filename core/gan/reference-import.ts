// Maps the AutoGAN reference's PyTorch state dicts onto this project's parameter names and layouts,
// for both of its generator layouts: the search supernet (models_search/shared_gan: a
// post_conv/pre_conv block per choice, deconvolutions, skip deconvolutions) and the fixed
// published models (models/autogan_cifar10_a|b|c: pre-activation cells `c1`/`c2`, norms `n1`/`n2`),
// and for the spectral-norm discriminator and the LSTM controller. Every weight is mapped
// explicitly; a missing, unknown or mis-shaped key is an error naming it.
import type { NpyArray } from '../metrics/npz';
import { parseArch, type CellArch } from '../arch/encoding';

export class ReferenceImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceImportError';
  }
}

/** The architectures of the reference's published fixed models (read from their classes). */
export const PUBLISHED_ARCHS: Record<string, number[]> = {
  'autogan-cifar10-a': [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3],
  'autogan-cifar10-b': [1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 3],
  'autogan-cifar10-c': [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3],
};

/** A weight in our layout: parameter name, shape, float32 values. */
export interface MappedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export type GeneratorLayout = 'supernet' | 'fixed';

/** Which reference layout a generator state dict has. */
export function generatorLayout(state: Map<string, NpyArray>): GeneratorLayout {
  const keys = [...state.keys()];
  if (keys.some((k) => /^cell\d+\.(pre|post)_conv\d\./.test(k))) return 'supernet';
  if (keys.some((k) => /^cell\d+\.c1\.weight$/.test(k))) return 'fixed';
  throw new ReferenceImportError(
    `not an AutoGAN generator state dict: no cell<i>.pre_conv1/post_conv1 (search supernet) or cell<i>.c1 (published model) keys; found ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}`,
  );
}

/** Reads entries of a state dict, tracking which were used so leftovers can be reported. */
class StateReader {
  readonly used = new Set<string>();
  readonly out: MappedTensor[] = [];

  constructor(
    readonly state: Map<string, NpyArray>,
    readonly what: string,
  ) {}

  get(key: string, shape: number[]): NpyArray {
    const a = this.state.get(key);
    if (!a) throw new ReferenceImportError(`${this.what}: missing key ${key} (shape [${shape}])`);
    if (a.shape.join() !== shape.join())
      throw new ReferenceImportError(
        `${this.what}: ${key} has shape [${a.shape}], expected [${shape}] for the given sizes`,
      );
    this.used.add(key);
    return a;
  }

  has(key: string): boolean {
    return this.state.has(key);
  }

  put(name: string, shape: number[], values: Float32Array): void {
    this.out.push({ name, shape, values });
  }

  /** A vector (bias, BN parameter) copied as is. */
  vector(key: string, name: string, n: number): void {
    this.put(name, [n], Float32Array.from(this.get(key, [n]).data));
  }

  /** Conv2d weight OIHW → HWIO. */
  conv(key: string, name: string, cout: number, cin: number, k: number): void {
    const src = this.get(key, [cout, cin, k, k]).data;
    const dst = new Float32Array(src.length);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++)
        for (let y = 0; y < k; y++)
          for (let x = 0; x < k; x++)
            dst[((y * k + x) * cin + i) * cout + o] = src[((o * cin + i) * k + y) * k + x];
    this.put(name, [k, k, cin, cout], dst);
  }

  /** ConvTranspose2d weight [in, out, kh, kw] → [kh, kw, out, in] (tf's conv2dTranspose filter). */
  deconv(key: string, name: string, cin: number, cout: number): void {
    const src = this.get(key, [cin, cout, 2, 2]).data;
    const dst = new Float32Array(src.length);
    for (let i = 0; i < cin; i++)
      for (let o = 0; o < cout; o++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 2; x++)
            dst[((y * 2 + x) * cout + o) * cin + i] = src[((i * cout + o) * 2 + y) * 2 + x];
    this.put(name, [2, 2, cout, cin], dst);
  }

  /** Linear weight [out, in] → [in, out]. */
  linear(key: string, name: string, cout: number, cin: number): void {
    const src = this.get(key, [cout, cin]).data;
    const dst = new Float32Array(src.length);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) dst[i * cout + o] = src[o * cin + i];
    this.put(name, [cin, cout], dst);
  }

  /** BatchNorm2d weight/bias/running stats → gamma/beta/mean/var (num_batches_tracked is not read). */
  batchNorm(prefix: string, name: string, c: number): void {
    this.vector(`${prefix}.weight`, `${name}.gamma`, c);
    this.vector(`${prefix}.bias`, `${name}.beta`, c);
    this.vector(`${prefix}.running_mean`, `${name}.mean`, c);
    this.vector(`${prefix}.running_var`, `${name}.var`, c);
  }

  /** Keys never read, except those the caller says are expected to be skipped. */
  unused(expected: (key: string) => boolean): string[] {
    return [...this.state.keys()].filter((k) => !this.used.has(k) && !expected(k));
  }
}

export interface GeneratorImportOptions {
  arch: number[];
  gfDim: number;
  latentDim: number;
  /** @default 4 */
  bottomWidth?: number;
  /** @default 3 */
  channels?: number;
}

/**
 * The linear layer from the latent: the reference views its output units as (c, y, x) (NCHW);
 * ours reshapes to NHWC, so output unit (c, y, x) becomes column (y·B + x)·C + c.
 */
function latentLinear(r: StateReader, C: number, B: number, latent: number): void {
  const units = B * B * C;
  const w = r.get('l1.weight', [units, latent]).data;
  const b = r.get('l1.bias', [units]).data;
  const W = new Float32Array(latent * units);
  const bias = new Float32Array(units);
  for (let c = 0; c < C; c++)
    for (let p = 0; p < B * B; p++) {
      const src = c * B * B + p;
      const dst = p * C + c;
      bias[dst] = b[src];
      for (let i = 0; i < latent; i++) W[i * units + dst] = w[src * latent + i];
    }
  r.put('g.l1.w', [latent, units], W);
  r.put('g.l1.b', [units], bias);
}

function toRgb(r: StateReader, C: number, channels: number): void {
  r.batchNorm('to_rgb.0', 'g.out.bn', C);
  r.conv('to_rgb.2.weight', 'g.out.conv.w', channels, C, 3);
  r.vector('to_rgb.2.bias', 'g.out.conv.b', channels);
}

function conv(r: StateReader, key: string, name: string, C: number, k: number): void {
  r.conv(`${key}.weight`, `${name}.w`, C, C, k);
  r.vector(`${key}.bias`, `${name}.b`, C);
}

function deconv(r: StateReader, key: string, name: string, C: number): void {
  r.deconv(`${key}.weight`, `${name}.w`, C, C);
  r.vector(`${key}.bias`, `${name}.b`, C);
}

function supernetCell(r: StateReader, s: number, a: CellArch, C: number): void {
  const ref = `cell${s + 1}`;
  const ours = `g.cell${s}`;
  for (const k of [1, 2]) {
    const block = `${ref}.${a.conv}_conv${k}`;
    const b = `${ours}.${a.conv}${k}`;
    conv(r, `${block}.conv`, `${b}.conv`, C, 3);
    if (a.norm === 'bn') r.batchNorm(`${block}.bn`, `${b}.bn`, C);
    if (k === 1 && a.up === 'deconv') deconv(r, `${block}.deconv`, `${b}.deconv`, C);
  }
  if (a.shortcut) {
    conv(r, `${ref}.c_sc`, `${ours}.sc`, C, 1);
    if (a.up === 'deconv') deconv(r, `${ref}.deconv_sc`, `${ours}.sc_deconv`, C);
  }
  a.skipIns.forEach((on, i) => {
    if (!on) return;
    conv(r, `${ref}.skip_in_ops.${i}`, `${ours}.skip${i}`, C, 1);
  });
  if (a.up === 'deconv') {
    // One deconvolution chain per scale: ×2 is `skip_deconvx2`, ×4 the two of `skip_deconvx4`.
    const scales = new Set(a.skipIns.map((on, i) => (on ? s - i : 0)).filter((m) => m > 0));
    for (const m of scales) {
      if (m === 1) deconv(r, `${ref}.skip_deconvx2`, `${ours}.skip_up2.0`, C);
      else if (m === 2) {
        deconv(r, `${ref}.skip_deconvx4.0`, `${ours}.skip_up4.0`, C);
        deconv(r, `${ref}.skip_deconvx4.1`, `${ours}.skip_up4.1`, C);
      } else
        throw new ReferenceImportError(`${ref}: the reference has no skip deconvolution for scale ${2 ** m}`);
    }
  }
}

function fixedCell(r: StateReader, s: number, a: CellArch, C: number): void {
  const ref = `cell${s + 1}`;
  const ours = `g.cell${s}`;
  if (a.conv !== 'pre')
    throw new ReferenceImportError(
      `${ref}: the published models' cells are pre-activation (conv 1); the architecture says post`,
    );
  if (a.up === 'deconv')
    throw new ReferenceImportError(`${ref}: the published models' cells have no deconvolution upsampling`);
  const hasBn = r.has(`${ref}.n1.weight`);
  if (hasBn !== (a.norm === 'bn'))
    throw new ReferenceImportError(
      `${ref}: the state dict ${hasBn ? 'has' : 'has no'} batch norm (n1/n2) but the architecture says norm ${a.norm}`,
    );
  const hasSc = r.has(`${ref}.c_sc.weight`);
  if (hasSc !== a.shortcut)
    throw new ReferenceImportError(
      `${ref}: the state dict ${hasSc ? 'has' : 'has no'} shortcut (c_sc) but the architecture says shortcut ${a.shortcut ? 1 : 0}`,
    );
  conv(r, `${ref}.c1`, `${ours}.pre1.conv`, C, 3);
  conv(r, `${ref}.c2`, `${ours}.pre2.conv`, C, 3);
  if (a.norm === 'bn') {
    r.batchNorm(`${ref}.n1`, `${ours}.pre1.bn`, C);
    r.batchNorm(`${ref}.n2`, `${ours}.pre2.bn`, C);
  }
  if (a.shortcut) conv(r, `${ref}.c_sc`, `${ours}.sc`, C, 1);
  // The published cells take every earlier cell's skip-out, one 1×1 conv each.
  a.skipIns.forEach((on, i) => {
    const key = `${ref}.skip_in_ops.${i}`;
    if (!on) {
      if (r.has(`${key}.weight`))
        throw new ReferenceImportError(
          `${ref}: the state dict has ${key} but the architecture has no skip-in from cell ${i}`,
        );
      return;
    }
    conv(r, key, `${ours}.skip${i}`, C, 1);
  });
}

/**
 * Our derived generator's weights (names as generatorSpecs(config, arch)) from a reference
 * generator state dict of either layout. Unused keys that belong to other choices of the
 * supernet are expected; anything else left over is an error.
 */
export function importGenerator(
  state: Map<string, NpyArray>,
  opts: GeneratorImportOptions,
  what = 'generator',
): { layout: GeneratorLayout; tensors: MappedTensor[] } {
  const layout = generatorLayout(state);
  const cells = parseArch(opts.arch);
  const C = opts.gfDim;
  const B = opts.bottomWidth ?? 4;
  const r = new StateReader(state, what);
  latentLinear(r, C, B, opts.latentDim);
  cells.forEach((a, s) => (layout === 'supernet' ? supernetCell(r, s, a, C) : fixedCell(r, s, a, C)));
  toRgb(r, C, opts.channels ?? 3);
  const extraCells = [...state.keys()].filter((k) => {
    const m = /^cell(\d+)\./.exec(k);
    return m && Number(m[1]) > cells.length;
  });
  if (layout === 'fixed' && extraCells.length)
    throw new ReferenceImportError(
      `${what}: the state dict has cells beyond the architecture's ${cells.length} (${extraCells[0]}, …)`,
    );
  const leftovers = r.unused(
    (k) =>
      k.endsWith('num_batches_tracked') ||
      // The supernet holds every choice's weights; only the architecture's path is imported.
      (layout === 'supernet' && /^cell\d+\./.test(k)),
  );
  if (leftovers.length)
    throw new ReferenceImportError(
      `${what}: unknown key${leftovers.length > 1 ? 's' : ''} ${leftovers.join(', ')}`,
    );
  return { layout, tensors: r.out };
}

/**
 * torch.nn.utils.spectral_norm's v runs over the weight matrix's columns in (cin, kh, kw) order;
 * ours over (kh, kw, cin).
 */
function snVector(v: Float64Array, cin: number, k: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < cin; i++)
    for (let y = 0; y < k; y++)
      for (let x = 0; x < k; x++) out[(y * k + x) * cin + i] = v[(i * k + y) * k + x];
  return out;
}

export interface DiscriminatorImportOptions {
  dfDim: number;
  /** @default 3 */
  channels?: number;
  /** Generator cells (the reference's D has cells + 1 blocks). @default 3 */
  cells?: number;
}

/** Our discriminator's weights (names as discriminatorSpecs) from a reference spectral-norm D. */
export function importDiscriminator(
  state: Map<string, NpyArray>,
  opts: DiscriminatorImportOptions,
  what = 'discriminator',
): MappedTensor[] {
  const ch = opts.dfDim;
  const cells = opts.cells ?? 3;
  const channels = opts.channels ?? 3;
  const r = new StateReader(state, what);
  const sn = r.has('l5.weight_orig');
  const layer = (key: string, name: string, cout: number, cin: number, k: number) => {
    if (sn) {
      r.conv(`${key}.weight_orig`, `${name}.w`, cout, cin, k);
      r.vector(`${key}.weight_u`, `${name}.sn_u`, cout);
      r.put(`${name}.sn_v`, [cin * k * k], snVector(r.get(`${key}.weight_v`, [cin * k * k]).data, cin, k));
    } else r.conv(`${key}.weight`, `${name}.w`, cout, cin, k);
    r.vector(`${key}.bias`, `${name}.b`, cout);
  };
  for (let i = 0; i <= cells; i++) {
    const ref = `block${i + 1}`;
    const ours = `d.block${i}`;
    const cin = i === 0 ? channels : ch;
    layer(`${ref}.c1`, `${ours}.c1`, ch, cin, 3);
    layer(`${ref}.c2`, `${ours}.c2`, ch, ch, 3);
    // The optimized first block and downsampling blocks have a learnable shortcut.
    const learnable = i === 0 || i < cells - 1;
    if (learnable) layer(`${ref}.c_sc`, `${ours}.sc`, ch, cin, 1);
  }
  if (sn) {
    r.linear('l5.weight_orig', 'd.out.w', 1, ch);
    r.vector('l5.weight_u', 'd.out.sn_u', 1);
    r.vector('l5.weight_v', 'd.out.sn_v', ch);
  } else r.linear('l5.weight', 'd.out.w', 1, ch);
  const leftovers = r.unused(() => false);
  if (leftovers.length)
    throw new ReferenceImportError(
      `${what}: unknown key${leftovers.length > 1 ? 's' : ''} ${leftovers.join(', ')}`,
    );
  return r.out;
}

/** Our controller's weights from a reference controller (models_search/controller.py). */
export function importController(
  state: Map<string, NpyArray>,
  opts: { hiddenSize: number; tokens: number[] },
  what = 'controller',
): MappedTensor[] {
  const H = opts.hiddenSize;
  const r = new StateReader(state, what);
  r.linear('lstm.weight_ih', 'lstm.wih', 4 * H, H);
  r.linear('lstm.weight_hh', 'lstm.whh', 4 * H, H);
  r.vector('lstm.bias_ih', 'lstm.bih', 4 * H);
  r.vector('lstm.bias_hh', 'lstm.bhh', 4 * H);
  const total = opts.tokens.reduce((a, b) => a + b, 0);
  r.put('embed', [total, H], Float32Array.from(r.get('encoder.weight', [total, H]).data));
  opts.tokens.forEach((t, i) => {
    r.linear(`decoders.${i}.weight`, `dec${i}.w`, t, H);
    r.vector(`decoders.${i}.bias`, `dec${i}.b`, t);
  });
  const leftovers = r.unused(() => false);
  if (leftovers.length)
    throw new ReferenceImportError(
      `${what}: unknown key${leftovers.length > 1 ? 's' : ''} ${leftovers.join(', ')}`,
    );
  return r.out;
}

/**
 * Splits a reference checkpoint into its state dicts: a bare generator state dict, or the dict
 * train.py saves (`gen_state_dict`, `avg_gen_state_dict`, `dis_state_dict`, …), flattened by the
 * converter into `<outer>/<inner>` keys.
 */
export function splitCheckpoint(state: Map<string, NpyArray>): Map<string, Map<string, NpyArray>> {
  const groups = new Map<string, Map<string, NpyArray>>();
  for (const [key, arr] of state) {
    const slash = key.indexOf('/');
    const group = slash < 0 ? '' : key.slice(0, slash);
    const inner = slash < 0 ? key : key.slice(slash + 1);
    if (!groups.has(group)) groups.set(group, new Map());
    groups.get(group)!.set(inner, arr);
  }
  return groups;
}
