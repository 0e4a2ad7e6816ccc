// Graph helpers over step ids. Pure: used by the validator and safe for workflow code.

/** Every elementary cycle found by DFS, each reported once, starting at its first-seen step. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') {
        const cycle = stack.slice(stack.indexOf(m));
        const key = [...cycle].sort().join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

/** Stable topological order (Kahn), keeping the file's order among independent steps. */
export function dependencyOrder<T extends { id: string; needs: string[] }>(steps: T[]): T[] {
  const remaining = [...steps];
  const done = new Set<string>();
  const out: T[] = [];
  while (remaining.length) {
    const i = remaining.findIndex((s) => s.needs.every((n) => done.has(n)));
    if (i < 0) throw new Error(`steps ${remaining.map((s) => s.id).join(', ')} form a cycle`);
    const [s] = remaining.splice(i, 1);
    done.add(s.id);
    out.push(s);
  }
  return out;
}
