/** Where a dataset comes from, as written in a pipeline's spec.dataset. */
export interface DatasetSpec {
  kind: 'mnist' | 'cifar10' | 'stl10' | 'folder';
  /** Directory holding the files (not used by the embedded digits). */
  path?: string;
  /** Requested square image size; readers resize to it when set. */
  imageSize?: number;
  /** Requested channel count (1 or 3). */
  channels?: number;
}

/** A readable dataset: images are float32, HWC, scaled to [-1, 1]. */
export interface Dataset {
  name: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Files the dataset reads (empty for the embedded digits). */
  files: string[];
  /** Labels when the format carries them. */
  label(index: number): number | undefined;
  /** Reads images [start, start+n) into one HWC float32 array of n images. */
  read(start: number, n: number): Float32Array;
}

/** Raised for unusable dataset files: names the file and what was expected and found. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
