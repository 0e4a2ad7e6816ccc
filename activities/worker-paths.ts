// Which filesystem paths a worker touches. Inputs can arrive straight through `temporal workflow
// start`, never validated by a client: an artifact store or dataset path must be absolute and
// inside one of the worker's roots (AUTOGAN_ROOTS, path-list separated; default: the worker's
// working directory and the system temp directory), judged on the real path of its nearest
// existing ancestor, so `..`, other absolute paths (/proc, /etc) and symlinks out are refused
// before anything is created.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { badInput } from './errors';

export const ROOTS_ENV = 'AUTOGAN_ROOTS';

/** The worker's roots, as real paths. */
export function workerRoots(): string[] {
  const configured = process.env[ROOTS_ENV]?.split(path.delimiter).filter(Boolean);
  const roots = configured?.length ? configured : [process.cwd(), os.tmpdir()];
  return roots.map((r) => {
    const abs = path.resolve(r);
    return fs.existsSync(abs) ? fs.realpathSync(abs) : abs;
  });
}

/** The real path of `p`: its nearest existing ancestor resolved, the rest appended. */
function realPathOf(p: string): string {
  let existing = p;
  const rest: string[] = [];
  while (!fs.existsSync(existing)) {
    const up = path.dirname(existing);
    if (up === existing) break;
    rest.unshift(path.basename(existing));
    existing = up;
  }
  return path.join(fs.realpathSync(existing), ...rest);
}

const inside = (p: string, root: string) =>
  p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Throws a non-retryable error unless `p` is an absolute path under one of the worker's roots. */
export function checkWorkerPath(p: unknown, what: string): void {
  if (typeof p !== 'string' || !p) throw badInput(`${what} must be a path (got ${JSON.stringify(p)})`);
  if (!path.isAbsolute(p))
    throw badInput(
      `${what} "${p}" is relative; workers take absolute paths (autogan plan/run resolve them on the client)`,
    );
  const real = realPathOf(path.normalize(p));
  const roots = workerRoots();
  if (!roots.some((r) => inside(real, r)))
    throw badInput(
      `${what} "${p}"${real !== p ? ` (really ${real})` : ''} is outside this worker's roots (${roots.join(', ')}); set ${ROOTS_ENV} on the worker to allow it`,
    );
}
