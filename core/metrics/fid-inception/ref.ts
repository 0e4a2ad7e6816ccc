// `fid-inception:<dir>` references, without tfjs: pipeline validation expands the string form
// into the options object that pipeline parameters carry (NetworkRef), so every consumer of a
// step's `network` keeps seeing 'digits' or an object.
import type { TfjsNetworkOptions } from '../features';

export const FID_INCEPTION_PREFIX = 'fid-inception:';

/** The directory of a `fid-inception:<dir>` reference, or undefined for anything else. */
export function fidInceptionDir(ref: unknown): string | undefined {
  return typeof ref === 'string' &&
    ref.startsWith(FID_INCEPTION_PREFIX) &&
    ref.length > FID_INCEPTION_PREFIX.length
    ? ref.slice(FID_INCEPTION_PREFIX.length)
    : undefined;
}

/**
 * The options object `fid-inception:<dir>` stands for. Only `source` and `format` are read by the
 * loader; the rest states the network's fixed interface truthfully for logs and schemas.
 */
export function fidInceptionOptions(dir: string): Omit<TfjsNetworkOptions, 'name'> {
  return {
    source: dir,
    format: 'fid-inception',
    inputSize: 299,
    inputChannels: 3,
    inputRange: '[-1,1]',
    featuresNode: 'pool_3',
    probsNode: 'logits',
    softmax: true,
  };
}

/** Replaces a `network: fid-inception:<dir>` string in a step's `with` by its object, in place. */
export function expandNetworkShorthand(withValue: Record<string, unknown>): void {
  const dir = fidInceptionDir(withValue.network);
  if (dir !== undefined) withValue.network = fidInceptionOptions(dir);
}
