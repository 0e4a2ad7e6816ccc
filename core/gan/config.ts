// Model sizes, with the reference search script's values as defaults where they apply.
import { GAN_DEFAULTS } from '../defaults';

export interface GanConfig {
  /** Latent size (reference 128). @default 128 */
  latentDim: number;
  /** Generator width (reference search 128; derived training 256). @default 128 */
  gfDim: number;
  /** Discriminator width (reference search 64; derived training 128). @default 64 */
  dfDim: number;
  /** Side of the first feature map (reference 4). @default 4 */
  bottomWidth: number;
  /** Number of generator cells = search stages (reference 3). @default 3 */
  cells: number;
  /** Image channels (3 for CIFAR/STL, 1 for the embedded digits). @default 3 */
  channels: number;
  /** Spectral norm on D (reference: on). @default true */
  dSpectralNorm: boolean;
  /**
   * What a cell passes on as its skip-out feature map. 'with-skip-ins': the map after this cell's
   * own skip-ins were added, as the reference code does (it adds them in place to the tensor it
   * returns as the skip-out); the published architectures were searched and trained that way.
   * 'before-skip-ins': the map right after the first conv, as the paper's figure reads.
   * @default 'with-skip-ins'
   */
  skipOut?: 'with-skip-ins' | 'before-skip-ins';
}

export const DEFAULT_GAN_CONFIG: GanConfig = { ...GAN_DEFAULTS };

/** Output resolution at a stage: every cell doubles the resolution. */
export function imageSizeAt(config: Pick<GanConfig, 'bottomWidth'>, stage: number): number {
  return config.bottomWidth * 2 ** (stage + 1);
}
