// The FID Inception's architecture as data: every convolution (name, channels, kernel, stride,
// padding) of the 2015-12-05 Inception graph in the layout pytorch-fid and torch-fidelity ported it
// to, and the state-dict names and shapes that follow from it. The forward pass (network.ts) and
// the converter (convert.ts) both read this table, so a name or shape is stated exactly once.

/** A convolution followed by batch norm (eps 1e-3) and ReLU: torchvision's BasicConv2d. */
export interface ConvSpec {
  /** State-dict prefix, e.g. `Mixed_5b.branch5x5_2`. */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: 1 | 2;
  /**
   * 'same': the port's symmetric zero padding of (k - 1) / 2 per side, used only at stride 1 with
   * odd kernels, where it equals TensorFlow's SAME. 'valid': no padding.
   */
  padding: 'same' | 'valid';
}

/** The blocks in forward order; their outputs are what the structure test checks. */
export const BLOCK_NAMES = [
  'Conv2d_1a_3x3',
  'Conv2d_2a_3x3',
  'Conv2d_2b_3x3',
  'MaxPool_3a_3x3',
  'Conv2d_3b_1x1',
  'Conv2d_4a_3x3',
  'MaxPool_5a_3x3',
  'Mixed_5b',
  'Mixed_5c',
  'Mixed_5d',
  'Mixed_6a',
  'Mixed_6b',
  'Mixed_6c',
  'Mixed_6d',
  'Mixed_6e',
  'Mixed_7a',
  'Mixed_7b',
  'Mixed_7c',
  'pool_3',
] as const;
export type BlockName = (typeof BLOCK_NAMES)[number];

/** Input side of the network; every image is resized to it first. */
export const INPUT_SIZE = 299;
/** pool_3 width: the FID features. */
export const FEATURE_DIM = 2048;
/** Classes of the 2015 graph's softmax (1000 ImageNet classes plus 8 unused). */
export const CLASSES = 1008;
/** Batch-norm epsilon of the 2015 graph (torchvision's BasicConv2d uses the same). */
export const BN_EPS = 1e-3;

function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number | [number, number],
  stride: 1 | 2 = 1,
  padding: 'same' | 'valid' = 'same',
): ConvSpec {
  const k: [number, number] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  return { name, inChannels, outChannels, kernel: k, stride, padding };
}

/** 35×35 block: 1x1, 5x5, double 3x3, and average pool (padding excluded) + 1x1. */
function inceptionA(p: string, cin: number, poolFeatures: number): ConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 64, 1),
    conv(`${p}.branch5x5_1`, cin, 48, 1),
    conv(`${p}.branch5x5_2`, 48, 64, 5),
    conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
    conv(`${p}.branch3x3dbl_2`, 64, 96, 3),
    conv(`${p}.branch3x3dbl_3`, 96, 96, 3),
    conv(`${p}.branch_pool`, cin, poolFeatures, 1),
  ];
}

/** 35→17 reduction: strided 3x3, strided double 3x3, and max pool. */
function inceptionB(p: string, cin: number): ConvSpec[] {
  return [
    conv(`${p}.branch3x3`, cin, 384, 3, 2, 'valid'),
    conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
    conv(`${p}.branch3x3dbl_2`, 64, 96, 3),
    conv(`${p}.branch3x3dbl_3`, 96, 96, 3, 2, 'valid'),
  ];
}

/** 17×17 block with factorised 7x7 convolutions. */
function inceptionC(p: string, cin: number, c7: number): ConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 192, 1),
    conv(`${p}.branch7x7_1`, cin, c7, 1),
    conv(`${p}.branch7x7_2`, c7, c7, [1, 7]),
    conv(`${p}.branch7x7_3`, c7, 192, [7, 1]),
    conv(`${p}.branch7x7dbl_1`, cin, c7, 1),
    conv(`${p}.branch7x7dbl_2`, c7, c7, [7, 1]),
    conv(`${p}.branch7x7dbl_3`, c7, c7, [1, 7]),
    conv(`${p}.branch7x7dbl_4`, c7, c7, [7, 1]),
    conv(`${p}.branch7x7dbl_5`, c7, 192, [1, 7]),
    conv(`${p}.branch_pool`, cin, 192, 1),
  ];
}

/** 17→8 reduction. */
function inceptionD(p: string, cin: number): ConvSpec[] {
  return [
    conv(`${p}.branch3x3_1`, cin, 192, 1),
    conv(`${p}.branch3x3_2`, 192, 320, 3, 2, 'valid'),
    conv(`${p}.branch7x7x3_1`, cin, 192, 1),
    conv(`${p}.branch7x7x3_2`, 192, 192, [1, 7]),
    conv(`${p}.branch7x7x3_3`, 192, 192, [7, 1]),
    conv(`${p}.branch7x7x3_4`, 192, 192, 3, 2, 'valid'),
  ];
}

/** 8×8 block with split 1x3/3x1 branches (the two last mixed blocks). */
function inceptionE(p: string, cin: number): ConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 320, 1),
    conv(`${p}.branch3x3_1`, cin, 384, 1),
    conv(`${p}.branch3x3_2a`, 384, 384, [1, 3]),
    conv(`${p}.branch3x3_2b`, 384, 384, [3, 1]),
    conv(`${p}.branch3x3dbl_1`, cin, 448, 1),
    conv(`${p}.branch3x3dbl_2`, 448, 384, 3),
    conv(`${p}.branch3x3dbl_3a`, 384, 384, [1, 3]),
    conv(`${p}.branch3x3dbl_3b`, 384, 384, [3, 1]),
    conv(`${p}.branch_pool`, cin, 192, 1),
  ];
}

/** Every convolution, in state-dict order. */
export const CONVS: readonly ConvSpec[] = [
  conv('Conv2d_1a_3x3', 3, 32, 3, 2, 'valid'),
  conv('Conv2d_2a_3x3', 32, 32, 3, 1, 'valid'),
  conv('Conv2d_2b_3x3', 32, 64, 3),
  conv('Conv2d_3b_1x1', 64, 80, 1),
  conv('Conv2d_4a_3x3', 80, 192, 3, 1, 'valid'),
  ...inceptionA('Mixed_5b', 192, 32),
  ...inceptionA('Mixed_5c', 256, 64),
  ...inceptionA('Mixed_5d', 288, 64),
  ...inceptionB('Mixed_6a', 288),
  ...inceptionC('Mixed_6b', 768, 128),
  ...inceptionC('Mixed_6c', 768, 160),
  ...inceptionC('Mixed_6d', 768, 160),
  ...inceptionC('Mixed_6e', 768, 192),
  ...inceptionD('Mixed_7a', 768),
  ...inceptionE('Mixed_7b', 1280),
  ...inceptionE('Mixed_7c', 2048),
];

export interface StateEntry {
  name: string;
  shape: number[];
  /** Trainable parameter (counted by torch's `parameters()`), or a running-statistics buffer. */
  parameter: boolean;
}

/**
 * The published state dict's tensors (without BatchNorm's `num_batches_tracked`): per convolution
 * the OIHW weight and batch norm's weight, bias, running mean and variance; then the 1008-way fc.
 */
export function stateDictSpec(): StateEntry[] {
  const out: StateEntry[] = [];
  for (const c of CONVS) {
    out.push({
      name: `${c.name}.conv.weight`,
      shape: [c.outChannels, c.inChannels, ...c.kernel],
      parameter: true,
    });
    out.push({ name: `${c.name}.bn.weight`, shape: [c.outChannels], parameter: true });
    out.push({ name: `${c.name}.bn.bias`, shape: [c.outChannels], parameter: true });
    out.push({ name: `${c.name}.bn.running_mean`, shape: [c.outChannels], parameter: false });
    out.push({ name: `${c.name}.bn.running_var`, shape: [c.outChannels], parameter: false });
  }
  out.push({ name: 'fc.weight', shape: [CLASSES, FEATURE_DIM], parameter: true });
  out.push({ name: 'fc.bias', shape: [CLASSES], parameter: true });
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Trainable parameters, as torch counts them for the reference module (fc included). */
export function parameterCount(): number {
  return stateDictSpec()
    .filter((e) => e.parameter)
    .reduce((a, e) => a + size(e.shape), 0);
}

/** Every float of the state dict (parameters and running statistics). */
export function stateDictFloats(): number {
  return stateDictSpec().reduce((a, e) => a + size(e.shape), 0);
}

export interface StateDictMismatch {
  missing: string[];
  unknown: string[];
  /** `name: has [..], expected [..]` */
  misshaped: string[];
}

/** BatchNorm's step counter: present or not depending on the torch version that saved the file. */
export const isIgnoredKey = (name: string) => name.endsWith('num_batches_tracked');

/** Compares names and shapes with the published state dict (ignoring `num_batches_tracked`). */
export function compareStateDict(found: Iterable<[string, readonly number[]]>): StateDictMismatch {
  const expected = new Map(stateDictSpec().map((e) => [e.name, e.shape]));
  const seen = new Set<string>();
  const r: StateDictMismatch = { missing: [], unknown: [], misshaped: [] };
  for (const [name, shape] of found) {
    if (isIgnoredKey(name)) continue;
    seen.add(name);
    const want = expected.get(name);
    if (!want) r.unknown.push(name);
    else if (want.join(',') !== shape.join(','))
      r.misshaped.push(`${name}: has [${shape.join(', ')}], expected [${want.join(', ')}]`);
  }
  for (const name of expected.keys()) if (!seen.has(name)) r.missing.push(name);
  return r;
}

/** One message naming every problem (each list cut at `limit` entries), or undefined if none. */
export function describeMismatch(m: StateDictMismatch, limit = 20): string | undefined {
  const part = (label: string, items: string[]) =>
    items.length === 0
      ? []
      : [
          `${items.length} ${label}: ${items.slice(0, limit).join('; ')}` +
            (items.length > limit ? `; and ${items.length - limit} more` : ''),
        ];
  const parts = [
    ...part('missing', m.missing),
    ...part('unknown', m.unknown),
    ...part('with the wrong shape', m.misshaped),
  ];
  return parts.length ? parts.join('\n') : undefined;
}
