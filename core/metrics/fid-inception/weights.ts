// The converted weights in the project's one checkpoint format (core/checkpoint/format.ts): a
// directory holding `fid-inception.ckpt` with every tensor under its torch state-dict name and
// shape, plus where it came from. Folding and transposing happen at load time, so the file stays a
// faithful, checkable copy of the published state dict.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeLoaded, loadCheckpoint, saveCheckpoint } from '../../checkpoint/format';
import { FidInception, type FidInceptionOptions } from './network';
import { compareStateDict, describeMismatch, stateDictSpec } from './spec';
import type { StateDict } from './synthetic';

export const CHECKPOINT_KIND = 'fid-inception';
export const WEIGHTS_FILE = 'fid-inception.ckpt';

/** What the converter records about the source file. */
export interface FidInceptionProvenance {
  /** File name of the converted state dict. */
  source: string;
  sha256: string;
  /** 'verified': the sha256 starts with the published prefix; 'skipped': --skip-checksum. */
  checksum: 'verified' | 'skipped';
  /** How the tensors are laid out in the checkpoint. */
  layout: 'torch-state-dict';
}

/** `<dir>/fid-inception.ckpt`, or the path itself when it names a file. */
export function weightsFile(dirOrFile: string): string {
  return fs.existsSync(dirOrFile) && fs.statSync(dirOrFile).isFile()
    ? dirOrFile
    : path.join(dirOrFile, WEIGHTS_FILE);
}

/** Writes the state dict (every expected tensor, nothing else) atomically; returns the file. */
export function saveFidInceptionWeights(
  dir: string,
  state: StateDict,
  provenance: FidInceptionProvenance,
): string {
  const problems = describeMismatch(compareStateDict([...state].map(([k, v]) => [k, v.shape])));
  if (problems) throw new Error(`fid-inception: refusing to write weights that do not match:\n${problems}`);
  const file = path.join(dir, WEIGHTS_FILE);
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const e of stateDictSpec()) tensors[e.name] = tf.tensor(state.get(e.name)!.data, e.shape, 'float32');
    saveCheckpoint(file, { kind: CHECKPOINT_KIND, state: provenance, tensors });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return file;
}

/** Reads converted weights back as a state dict (hashes, names and shapes checked). */
export function readFidInceptionWeights(dirOrFile: string): {
  state: StateDict;
  provenance: FidInceptionProvenance;
} {
  const file = weightsFile(dirOrFile);
  if (!fs.existsSync(file)) {
    throw new Error(
      `fid-inception: ${file} does not exist; convert the published weights once with ` +
        '`autogan convert fid-inception pt_inception-2015-12-05-6726825d.pth --out <dir>`',
    );
  }
  const ckpt = loadCheckpoint<FidInceptionProvenance>(file, CHECKPOINT_KIND);
  try {
    const state: StateDict = new Map();
    for (const [name, t] of ckpt.tensors)
      state.set(name, { shape: [...t.shape], data: t.dataSync() as Float32Array });
    const problems = describeMismatch(compareStateDict([...state].map(([k, v]) => [k, v.shape])));
    if (problems) throw new Error(`fid-inception: ${file} does not match the network:\n${problems}`);
    return { state, provenance: ckpt.manifest.state };
  } finally {
    disposeLoaded(ckpt);
  }
}

/** The network from converted weights (`fid-inception:<dir>`). */
export async function loadFidInception(
  dirOrFile: string,
  o: FidInceptionOptions = {},
): Promise<FidInception> {
  const { state } = readFidInceptionWeights(dirOrFile);
  return FidInception.fromStateDict(state, { name: `fid-inception:${dirOrFile}`, ...o });
}
