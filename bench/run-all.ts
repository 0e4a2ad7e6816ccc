// Runs every benchmark in its own process and prints their JSON documents as one JSON array.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const benches = ['kernels', 'gan-training', 'metrics'];
const results = benches.map((b) =>
  JSON.parse(
    execFileSync(process.execPath, [path.join(__dirname, `${b}.js`)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 26,
    }),
  ),
);
console.log(JSON.stringify(results, null, 2));
