// `autogan convert fid-inception`: the published pt_inception-2015-12-05-6726825d.pth (or an .npz
// with the same keys) → the project's weight format. Checks the file's sha256 prefix (the hex in
// the published name is the start of its sha256, as torch hub names files) and every tensor's name
// and shape before writing anything. Never downloads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTorchState } from '../../checkpoint/torch-state';
import { sha256File } from '../../sha256';
import { compareStateDict, describeMismatch, isIgnoredKey, stateDictSpec } from './spec';
import type { StateDict } from './synthetic';
import { saveFidInceptionWeights } from './weights';

/** The published file's sha256 starts with this (its name says so). */
export const PUBLISHED_SHA256_PREFIX = '6726825d';
export const PUBLISHED_FILE = 'pt_inception-2015-12-05-6726825d.pth';

export interface ConvertOptions {
  /** Directory to write `fid-inception.ckpt` into (created if missing). */
  out: string;
  /**
   * Accept a file whose sha256 does not start with the published prefix (other weights with the
   * same names and shapes, e.g. random ones in tests).
   * @default false
   */
  skipChecksum?: boolean;
}

export interface ConvertResult {
  file: string;
  sha256: string;
  checksum: 'verified' | 'skipped';
  tensors: number;
  /** State-dict entries left out on purpose (BatchNorm `num_batches_tracked`). */
  ignored: string[];
}

export async function convertFidInception(source: string, o: ConvertOptions): Promise<ConvertResult> {
  if (!fs.existsSync(source)) throw new Error(`${source} does not exist`);
  const sha256 = sha256File(source);
  const verified = sha256.startsWith(PUBLISHED_SHA256_PREFIX);
  if (!verified && !o.skipChecksum) {
    throw new Error(
      `${source}: sha256 ${sha256.slice(0, 16)}… does not start with ${PUBLISHED_SHA256_PREFIX}, the published ` +
        `${PUBLISHED_FILE}'s; the file is corrupt or other weights (pass --skip-checksum to convert ` +
        'other weights with the same names and shapes; their scores are not comparable with published ones)',
    );
  }
  const raw = readTorchState(source);
  const found: Array<[string, number[]]> = [...raw].map(([k, v]) => [k, v.shape]);
  const problems = describeMismatch(compareStateDict(found));
  if (problems) {
    throw new Error(
      `${source} is not the FID Inception's state dict (${stateDictSpec().length} tensors expected):\n${problems}`,
    );
  }
  const state: StateDict = new Map();
  const ignored: string[] = [];
  for (const [name, arr] of raw) {
    if (isIgnoredKey(name)) ignored.push(name);
    else state.set(name, { shape: arr.shape, data: Float32Array.from(arr.data) });
  }
  raw.clear();
  const file = saveFidInceptionWeights(o.out, state, {
    source: path.basename(source),
    sha256,
    checksum: verified ? 'verified' : 'skipped',
    layout: 'torch-state-dict',
  });
  return { file, sha256, checksum: verified ? 'verified' : 'skipped', tensors: state.size, ignored };
}
