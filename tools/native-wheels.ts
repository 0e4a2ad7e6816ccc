// The Python wheels the native backends are built from, pinned by file name and sha256. One fixed
// file per wheel (CPython 3.11 tag for TensorFlow, whatever the local Python is) so one hash pins it.

export interface WheelPin {
  /** Name on the package index. */
  package: string;
  version: string;
  /** The exact file pip must produce. */
  file: string;
  sha256: string;
  /** Approximate download size, for the progress line. */
  mb: number;
}

/** Which tfjs-node flavour a build produces. */
export type NativeFlavour = 'cpu' | 'gpu';

export interface NativeVariant {
  flavour: NativeFlavour;
  /** The npm package whose installer and binding we build. */
  npmPackage: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';
  /** The wheel holding libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers. */
  tensorflow: WheelPin;
  /**
   * NVIDIA runtime wheels (`tensorflow[and-cuda]`), unpacked to deps/nvidia/<name>/lib where
   * libtensorflow_framework.so.2's own RUNPATH ($ORIGIN/../nvidia/<name>/lib) finds them.
   */
  cuda: WheelPin[];
}

export const TFJS_NODE_VERSION = '4.22.0';
/** The libtensorflow version tfjs-node 4.22's installer asks for (file names only). */
export const LIBTENSORFLOW_NAME_VERSION = '2.9.1';

/** Python tag and platforms pip is asked for; the manylinux tags cover every pinned file. */
export const WHEEL_PYTHON = '3.11';
export const WHEEL_PLATFORMS = [
  'manylinux_2_27_x86_64',
  'manylinux_2_17_x86_64',
  'manylinux2014_x86_64',
  'manylinux_2_12_x86_64',
  'manylinux2010_x86_64',
];

/**
 * tensorflow-cpu 2.21.0 is the newest on the index; its libtensorflow_cc.so.2 exports every TF_/TFE_
 * function the tfjs-node 4.22 binding calls (checked by building the binding against its headers and
 * by the verification in tools/verify-native.ts).
 */
export const CPU: NativeVariant = {
  flavour: 'cpu',
  npmPackage: '@tensorflow/tfjs-node',
  tensorflow: {
    package: 'tensorflow-cpu',
    version: '2.21.0',
    file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
    mb: 270,
  },
  cuda: [],
};

/**
 * The `tensorflow` wheel of the same release is built with CUDA 12 (kernels for sm_60…sm_90, so
 * Hopper runs natively, not through PTX JIT). The runtime wheels are the versions pip resolved for
 * `tensorflow[and-cuda]==2.21.0` on 2026-11-29 (its METADATA: cublas/cupti/nvrtc/runtime/cusparse/
 * nvjitlink ≥12.5 <13, cudnn ≥9.3 <10, cufft ≥11.2, curand ≥10.3.6, cusolver ≥11.6.3, nccl ≥2.27.7).
 * nvidia-cuda-nvcc is left out: it only provides ptxas for XLA, which tfjs never uses.
 */
export const GPU: NativeVariant = {
  flavour: 'gpu',
  npmPackage: '@tensorflow/tfjs-node-gpu',
  tensorflow: {
    package: 'tensorflow',
    version: '2.21.0',
    file: 'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    sha256: '9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124',
    mb: 572,
  },
  cuda: [
    {
      package: 'nvidia-cublas-cu12',
      version: '12.9.3.13',
      file: 'nvidia_cublas_cu12-12.9.3.13-py3-none-manylinux_2_27_x86_64.whl',
      sha256: 'd7d51055f161b317c7105ddaae90e71eda059026074ffef93cf7cde2886bfe72',
      mb: 581,
    },
    {
      package: 'nvidia-cuda-cupti-cu12',
      version: '12.8.90',
      file: 'nvidia_cuda_cupti_cu12-12.8.90-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
      sha256: 'ea0cb07ebda26bb9b29ba82cda34849e73c166c18162d3913575b0c9db9a6182',
      mb: 10,
    },
    {
      package: 'nvidia-cuda-nvrtc-cu12',
      version: '12.9.86',
      file: 'nvidia_cuda_nvrtc_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl',
      sha256: '210cf05005a447e29214e9ce50851e83fc5f4358df8b453155d5e1918094dcb4',
      mb: 90,
    },
    {
      package: 'nvidia-cuda-runtime-cu12',
      version: '12.9.79',
      file: 'nvidia_cuda_runtime_cu12-12.9.79-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
      sha256: '25bba2dfb01d48a9b59ca474a1ac43c6ebf7011f1b0b8cc44f54eb6ac48a96c3',
      mb: 3,
    },
    {
      package: 'nvidia-cudnn-cu12',
      version: '9.28.0.42',
      file: 'nvidia_cudnn_cu12-9.28.0.42-py3-none-manylinux_2_27_x86_64.whl',
      sha256: '9ff58b7f36dacd0a93e89f8f2957b52466889217963701daa15e577317cfa375',
      mb: 717,
    },
    {
      package: 'nvidia-cufft-cu12',
      version: '11.4.1.4',
      file: 'nvidia_cufft_cu12-11.4.1.4-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
      sha256: 'c67884f2a7d276b4b80eb56a79322a95df592ae5e765cf1243693365ccab4e28',
      mb: 201,
    },
    {
      package: 'nvidia-curand-cu12',
      version: '10.3.10.19',
      file: 'nvidia_curand_cu12-10.3.10.19-py3-none-manylinux_2_27_x86_64.whl',
      sha256: '49b274db4780d421bd2ccd362e1415c13887c53c214f0d4b761752b8f9f6aa1e',
      mb: 68,
    },
    {
      package: 'nvidia-cusolver-cu12',
      version: '11.7.5.82',
      file: 'nvidia_cusolver_cu12-11.7.5.82-py3-none-manylinux_2_27_x86_64.whl',
      sha256: '15da72d1340d29b5b3cf3fd100e3cd53421dde36002eda6ed93811af63c40d88',
      mb: 338,
    },
    {
      package: 'nvidia-cusparse-cu12',
      version: '12.5.10.65',
      file: 'nvidia_cusparse_cu12-12.5.10.65-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
      sha256: '73060ce019ac064a057267c585bf1fd5a353734151f87472ff02b2c5c9984e78',
      mb: 366,
    },
    {
      package: 'nvidia-nccl-cu12',
      version: '2.32.3',
      file: 'nvidia_nccl_cu12-2.32.3-py3-none-manylinux_2_27_x86_64.whl',
      sha256: 'bb94b2348e4861d5e8aa00b36c3d12d9bdf9c6369b82cbb723de0b582280a21c',
      mb: 352,
    },
    {
      package: 'nvidia-nvjitlink-cu12',
      version: '12.9.86',
      file: 'nvidia_nvjitlink_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl',
      sha256: 'e3f1171dbdc83c5932a45f0f4c99180a70de9bd2718c1ab77d14104f6d7147f9',
      mb: 40,
    },
  ],
};

/** The tarball name tfjs-node(-gpu)'s installer requests from TFJS_NODE_CDN_STORAGE. */
export function tarballName(v: NativeVariant): string {
  return `libtensorflow-${v.flavour}-linux-x86_64-${LIBTENSORFLOW_NAME_VERSION}.tar.gz`;
}
