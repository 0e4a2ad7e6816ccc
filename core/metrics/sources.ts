// Where images (or precomputed statistics) come from for `autogan metrics`: a generator checkpoint,
// a PNG folder, a dataset, or an .npz statistics file.
import * as fs from 'node:fs';
import { openDataset, type Dataset, type DatasetSpec } from '../datasets';
import { prepareImages } from '../datasets/loader';
import { GanTrainer } from '../gan/trainer';
import { Rng } from '../rng';
import type { ImageSource } from './evaluate';
import type { GaussianStats } from './fid';
import { readStatsNpz } from './npz';

export type Source =
  | { kind: 'stats'; stats: GaussianStats; label: string }
  | { kind: 'images'; source: ImageSource; label: string; dispose(): void };

export function datasetSource(ds: Dataset, size?: number): ImageSource {
  let at = 0;
  return {
    count: ds.count,
    next(n) {
      const k = Math.min(n, ds.count - at);
      if (k <= 0) throw new Error(`${ds.name} has only ${ds.count} images`);
      const x = prepareImages(
        ds.read(at, k),
        k,
        ds.height,
        ds.width,
        ds.channels,
        size ?? (ds.height === 28 ? 32 : ds.height),
        ds.channels,
      );
      at += k;
      return x;
    },
  };
}

function generatorSource(
  trainer: GanTrainer,
  opts: { arch?: number[]; seed: number; ema: boolean },
): ImageSource {
  const rng = new Rng(opts.seed);
  return {
    count: Infinity,
    next: (n) => trainer.sample(n, { rng, ema: opts.ema, ...(opts.arch ? { arch: opts.arch } : {}) }),
  };
}

function parseDatasetRef(ref: string): DatasetSpec | undefined {
  if (ref === 'mnist') return { kind: 'mnist' };
  const m = /^(cifar10|stl10|folder):(.+)$/.exec(ref);
  return m ? { kind: m[1] as DatasetSpec['kind'], path: m[2] } : undefined;
}

export function openSource(
  ref: string,
  opts: { arch?: number[]; seed?: number; ema?: boolean } = {},
): Source {
  if (ref.endsWith('.npz')) return { kind: 'stats', stats: readStatsNpz(ref), label: ref };
  if (ref.endsWith('.ckpt')) {
    const { trainer } = GanTrainer.load(ref);
    if (!trainer.arch && !opts.arch)
      throw new Error(
        `${ref} is a shared (supernet) checkpoint: pass --arch to choose the architecture to sample`,
      );
    return {
      kind: 'images',
      label: ref,
      source: generatorSource(trainer, {
        ...(opts.arch ? { arch: opts.arch } : {}),
        seed: opts.seed ?? 0,
        ema: opts.ema ?? true,
      }),
      dispose: () => trainer.dispose(),
    };
  }
  const spec =
    parseDatasetRef(ref) ??
    (fs.existsSync(ref) && fs.statSync(ref).isDirectory()
      ? { kind: 'folder' as const, path: ref }
      : undefined);
  if (!spec)
    throw new Error(
      `"${ref}" is not a source: use a .ckpt generator checkpoint, a .npz statistics file, a folder of PNGs, mnist, cifar10:<dir> or stl10:<dir>`,
    );
  const ds = openDataset(spec);
  return { kind: 'images', label: ds.name, source: datasetSource(ds), dispose: () => undefined };
}

export function disposeSource(s: Source): void {
  if (s.kind === 'images') s.dispose();
}
