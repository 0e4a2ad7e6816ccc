// The configurations `bench:compare` times on both sides (ours in compare-ours.ts, PyTorch in
// bench/torch/gan_step.py). One definition so the two sides cannot drift apart.

export interface CompareCase {
  /** demo | search | derive */
  name: string;
  description: string;
  /** Our architecture encoding (core/arch/encoding.ts) of the sampled / derived generator. */
  arch: number[];
  stage: number;
  cells: number;
  gfDim: number;
  dfDim: number;
  latentDim: number;
  bottomWidth: number;
  channels: number;
  gBatch: number;
  dBatch: number;
  /** Our side trains the parameter-shared supernet (true) or a derived network (false). */
  supernet: boolean;
  /** Timed repetitions after warm-up (medians are reported). */
  reps: number;
  warmup: number;
}

/** The paper's top-1 CIFAR-10 architecture (AutoGAN-top1), our encoding. */
export const PAPER_TOP1 = [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 3];

export const COMPARE_CASES: CompareCase[] = [
  {
    name: 'demo',
    description: 'the demo search: supernet stage 1 (16×16), gf 16 / df 16, latent 32, 1 channel, batch 32',
    // bilinear + BN in both cells, a shortcut and a skip-in: the costliest kinds of cell
    arch: [0, 1, 0, 1, 1, 1, 0, 1, 1],
    stage: 1,
    cells: 2,
    gfDim: 16,
    dfDim: 16,
    latentDim: 32,
    bottomWidth: 4,
    channels: 1,
    gBatch: 32,
    dBatch: 32,
    supernet: true,
    reps: 15,
    warmup: 3,
  },
  {
    name: 'search',
    description:
      "the paper's search: supernet stage 2 (32×32), gf 128 / df 64, latent 128, G batch 128, D batch 64",
    arch: PAPER_TOP1,
    stage: 2,
    cells: 3,
    gfDim: 128,
    dfDim: 64,
    latentDim: 128,
    bottomWidth: 4,
    channels: 3,
    gBatch: 128,
    dBatch: 64,
    supernet: true,
    reps: 5,
    warmup: 2,
  },
  {
    name: 'derive',
    description: "the paper's retraining of top-1: gf 256 / df 128, latent 128, G batch 128, D batch 64",
    arch: PAPER_TOP1,
    stage: 2,
    cells: 3,
    gfDim: 256,
    dfDim: 128,
    latentDim: 128,
    bottomWidth: 4,
    channels: 3,
    gBatch: 128,
    dBatch: 64,
    supernet: false,
    reps: 5,
    warmup: 2,
  },
];

/** The middle value (the upper one of an even count), as both sides of bench:compare report it. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The environment both sides ran under (allocator, oneDNN, threads): results depend on it. */
export function environmentRecord(): Record<string, string | null> {
  const keys = [
    'LD_PRELOAD',
    'TF_ENABLE_ONEDNN_OPTS',
    'OMP_NUM_THREADS',
    'TF_NUM_INTRAOP_THREADS',
    'MALLOC_CONF',
    'NVIDIA_TF32_OVERRIDE',
    'CUDA_VISIBLE_DEVICES',
    'AUTOGAN_LEAN_GRADS',
    'AUTOGAN_TFE_ASYNC',
    'AUTOGAN_FUSED_CONV',
    // TensorFlow's oneDNN allocator pool or malloc, and glibc's mmap threshold: the memory-for-time
    // trade in docs/performance.md.
    'TF_ONEDNN_USE_SYSTEM_ALLOCATOR',
    'MALLOC_MMAP_THRESHOLD_',
  ];
  return Object.fromEntries(keys.map((k) => [k, process.env[k] ?? null]));
}
