// A Python with one package from the package index, for tests that check our files with an
// independent reader: a venv in the project cache (.autogan/<name>-venv), installed with pip on
// first use; or, without the venv module, a --target folder put on PYTHONPATH.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stateDir } from '../../core/paths';

export interface PythonWith {
  python: string;
  env: NodeJS.ProcessEnv;
}

/** A Python that can import `requirement`'s package, or why there is none. */
export function pythonWith(
  name: string,
  requirement: string,
  log: (l: string) => void = () => undefined,
): PythonWith | { skip: string } {
  const venv = stateDir(`${name}-venv`);
  const done = path.join(venv, '.installed');
  const viaVenv = { python: path.join(venv, 'bin', 'python'), env: { ...process.env } };
  const site = path.join(venv, 'site');
  const viaTarget = { python: 'python3', env: { ...process.env, PYTHONPATH: site } };
  if (fs.existsSync(done)) return fs.readFileSync(done, 'utf8').startsWith('target') ? viaTarget : viaVenv;
  log(`[python] installing ${requirement} into ${venv} (once)…`);
  fs.rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 900_000 });
  let how: PythonWith;
  let pip;
  if (run('python3', ['-m', 'venv', venv]).status === 0) {
    how = viaVenv;
    pip = run(viaVenv.python, ['-m', 'pip', 'install', '--quiet', requirement]);
  } else {
    how = viaTarget;
    pip = run('python3', ['-m', 'pip', 'install', '--quiet', '--target', site, requirement]);
  }
  if (pip.status !== 0) {
    const why = (pip.stderr || pip.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return { skip: `pip install '${requirement}' failed (${why})` };
  }
  fs.writeFileSync(done, `${how === viaTarget ? 'target' : 'venv'} ${requirement}\n`);
  return how;
}
