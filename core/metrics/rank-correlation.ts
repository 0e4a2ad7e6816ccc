// Rank correlations of two paired samples: how well one score (a proxy, e.g. an architecture's
// reward on the supernet) orders items like another (e.g. its IS when trained from scratch).

/** Ranks 1..n, ties given their average rank. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const r = new Array<number>(xs.length);
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && order[j + 1].x === order[k].x) j++;
    const avg = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) r[order[m].i] = avg;
    k = j + 1;
  }
  return r;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

function check(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} vs ${b.length}`);
  if (a.length < 2) throw new Error('a rank correlation needs at least 2 pairs');
}

/** Spearman's ρ: the Pearson correlation of the ranks (ties averaged). NaN when one side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  check(a, b);
  return pearson(ranks(a), ranks(b));
}

/** Kendall's τ-b (ties in either sample accounted for). NaN when one side is constant. */
export function kendall(a: readonly number[], b: readonly number[]): number {
  check(a, b);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  const n1 = concordant + discordant + tiesA;
  const n2 = concordant + discordant + tiesB;
  return n1 === 0 || n2 === 0 ? NaN : (concordant - discordant) / Math.sqrt(n1 * n2);
}
