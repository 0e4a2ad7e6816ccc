// Reads PyTorch state dicts for importers: `.npz` files keyed by state-dict names directly, `.pth`
// pickles through the small optional Python converter (tools/pth_to_npz.py), because parsing
// pickles in TypeScript would mean reimplementing torch's serialization.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNpz, type NpyArray } from '../metrics/npz';
import { projectRoot } from '../paths';

export class TorchStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchStateError';
  }
}

/** The Python interpreter used for `.pth` files: AUTOGAN_PYTHON, else python3. */
export function pythonCommand(): string {
  return process.env.AUTOGAN_PYTHON || 'python3';
}

/**
 * Every floating-point tensor of a checkpoint, keyed by its state-dict name; nested dicts of state
 * dicts (`gen_state_dict`, `avg_gen_state_dict`, ...) give `<outer>/<inner>` keys.
 */
export function readTorchState(file: string): Map<string, NpyArray> {
  if (!fs.existsSync(file)) throw new TorchStateError(`${file} does not exist`);
  if (file.endsWith('.npz')) return readNpz(file);
  const tool = path.join(projectRoot(), 'tools', 'pth_to_npz.py');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autogan-pth-'));
  const out = path.join(dir, 'state.npz');
  try {
    const py = pythonCommand();
    const r = spawnSync(py, [tool, file, out], { encoding: 'utf8' });
    if (r.error) {
      throw new TorchStateError(
        `${file}: reading a .pth needs Python with torch (${py}: ${r.error.message}); ` +
          `install them (pip install torch numpy), set AUTOGAN_PYTHON, or convert the file to .npz elsewhere`,
      );
    }
    if (r.status === 3) {
      throw new TorchStateError(
        `${file}: reading a .pth needs torch and numpy for ${py} (${r.stderr.trim()}): pip install torch numpy, ` +
          `or set AUTOGAN_PYTHON to an interpreter that has them`,
      );
    }
    if (r.status !== 0)
      throw new TorchStateError(r.stderr.trim() || `${file}: conversion failed (exit ${r.status})`);
    return readNpz(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
