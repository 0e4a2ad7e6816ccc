// Size and compute of a derived generator: parameter count (from the same weight declarations the
// model uses) and multiply-accumulates of one forward pass per image, the quantity GAN papers
// report as "FLOPs". Norms, activations and interpolation are not counted (no multiply-adds of
// weights), as in the usual profilers.
import { DEFAULT_GAN_CONFIG, type GanConfig } from '../gan/config';
import { generatorSpecs } from '../gan/generator';
import { parseArch } from './encoding';

export interface ArchCost {
  params: number;
  macs: number;
  outputSize: number;
}

export function archCost(vector: readonly number[], config: Partial<GanConfig> = {}): ArchCost {
  const c = { ...DEFAULT_GAN_CONFIG, ...config };
  const cells = parseArch(vector);
  const C = c.gfDim;
  const B = c.bottomWidth;
  const params = generatorSpecs(c, vector)
    .filter((s) => s.trainable)
    .reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const conv = (res: number, k: number, cin: number, cout: number) => res * res * k * k * cin * cout;
  // A kernel-2 stride-2 transposed conv: every input pixel touches 4 outputs.
  const deconv = (inRes: number, cin: number, cout: number) => inRes * inRes * 4 * cin * cout;
  let macs = c.latentDim * B * B * C;
  let res = B;
  for (const a of cells) {
    const out = res * 2;
    if (a.up === 'deconv') macs += deconv(res, C, C);
    macs += conv(out, 3, C, C) * 2;
    a.skipIns.forEach((on, i) => {
      if (!on) return;
      const srcRes = B * 2 ** (i + 1);
      if (a.up === 'deconv') for (let r = srcRes; r < out; r *= 2) macs += deconv(r, C, C);
      macs += conv(out, 1, C, C);
    });
    if (a.shortcut) {
      if (a.up === 'deconv') macs += deconv(res, C, C);
      macs += conv(out, 1, C, C);
    }
    res = out;
  }
  macs += conv(res, 3, C, c.channels);
  return { params, macs, outputSize: res };
}
