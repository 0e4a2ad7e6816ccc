import * as fs from 'node:fs';
import * as path from 'node:path';

let root: string | undefined;

/** The project's root folder (holding package.json, schemas/, pipelines/), from source or dist/. */
export function projectRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'schemas'))) return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the project root above ${__dirname}`);
    dir = up;
  }
}

/** Project-local state: server database, downloaded binaries, caches. */
export function stateDir(...parts: string[]): string {
  const base = process.env.AUTOGAN_HOME ?? path.join(projectRoot(), '.autogan');
  return path.join(base, ...parts);
}
