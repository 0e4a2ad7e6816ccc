import type { Plan } from '../pipeline/plan';
import type { PipelineStatus } from '../workflows/pipeline';
import type { SearchProgress } from '../workflows/search';

export function formatPlan(plan: Plan): string {
  const lines = [
    `pipeline ${plan.name}${plan.description ? ` — ${plan.description}` : ''}`,
    `  dataset:   ${plan.spec.dataset.kind}${plan.spec.dataset.path ? ` at ${plan.spec.dataset.path}` : ''}${plan.spec.dataset.imageSize ? `, ${plan.spec.dataset.imageSize}px` : ''}`,
    `  backend:   ${plan.spec.backend}   seed: ${plan.spec.seed}`,
    `  artifacts: ${plan.spec.artifacts.path}${plan.spec.artifacts.s3 ? ` (cache of s3://${plan.spec.artifacts.s3.bucket}/${plan.spec.artifacts.s3.prefix ?? ''})` : ''}`,
    `  queues:    control=${plan.spec.taskQueues.control} gpu=${plan.spec.taskQueues.gpu}`,
    '  steps (dependency order):',
  ];
  for (const s of plan.steps) {
    lines.push(`    ${s.id}: ${s.uses} (${s.execution} ${s.target} on ${s.taskQueue})`);
    if (s.needs.length) lines.push(`      needs:   ${s.needs.join(', ')}`);
    if (s.forEach) lines.push(`      forEach: every element of ${s.forEach.step}.${s.forEach.output}`);
    lines.push(
      `      timeout: ${s.timeout.startToClose}${s.timeout.heartbeat ? `, heartbeat ${s.timeout.heartbeat}` : ''}`,
    );
    lines.push(
      `      retry:   ${s.retry.maximumAttempts} attempts, ${s.retry.initialInterval} ×${s.retry.backoffCoefficient} up to ${s.retry.maximumInterval}`,
    );
    lines.push(`      with:    ${JSON.stringify(s.with)}`);
  }
  return lines.join('\n');
}

export function formatStatus(s: PipelineStatus): string {
  return s.steps
    .map((st) => {
      const fan = st.fanOut ? ` ${st.fanOut.done}/${st.fanOut.total}` : '';
      const err = st.error ? ` — ${st.error}` : '';
      return `  ${st.state.padEnd(8)} ${st.id} (${st.uses})${fan}${err}`;
    })
    .join('\n');
}

export function formatSearchProgress(p: SearchProgress): string {
  const lines = [
    `search ${p.name}: iteration ${p.iteration}/${p.maxIterations}, stage ${p.stage}, phase ${p.phase}${p.stopping ? ' (stopping)' : ''}`,
    `  resets so far: ${p.resets}; compute time: ${p.computeSeconds.toFixed(1)} s; run ${p.run} of this search (continue-as-new)`,
  ];
  if (p.lastRewards.length)
    lines.push(`  last rewards: ${p.lastRewards.map((r) => r.toFixed(3)).join(', ')}`);
  for (const b of p.best)
    lines.push(`  best sampled in controller training: [${b.arch.join(' ')}] reward ${b.score.toFixed(3)}`);
  for (const r of p.recoveries ?? []) lines.push(`  recovered: ${r}`);
  return lines.join('\n');
}

/** A finished run's result in a few lines (the full document: `autogan status --json`). */
export function formatResult(result: unknown): string {
  const r = result as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return `result: ${JSON.stringify(result)}`;
  const lines: string[] = [];
  const outputs = r.outputs as Record<string, Record<string, unknown>> | undefined;
  const search = (outputs ? Object.values(outputs).find((o) => o && 'topK' in o && 'rewards' in o) : r) as
    { iterations?: number; resets?: number; topK?: Array<{ arch: number[]; score: number }> } | undefined;
  if (search?.topK) {
    lines.push(
      `  search: ${search.iterations ?? '?'} iterations, ${search.resets ?? 0} dynamic resets; derived top ${search.topK.length}:`,
    );
    for (const t of search.topK) lines.push(`    [${t.arch.join(' ')}] reward ${t.score.toFixed(3)}`);
  }
  const evaluation = outputs
    ? (Object.values(outputs).find((o) => o && 'winner' in o) as
        | { winner?: { label: string; arch: number[]; is: number; fid: number | null; samples?: string } }
        | undefined)
    : undefined;
  const w = evaluation?.winner;
  if (w)
    lines.push(
      `  winner: ${w.label} [${w.arch.join(' ')}] IS ${w.is.toFixed(3)}${w.fid !== null ? `, FID ${w.fid.toFixed(2)}` : ''}${w.samples ? `; samples ${w.samples}` : ''}`,
    );
  for (const note of recoveryNotes(search, outputs)) lines.push(`  recovered: ${note}`);
  if (outputs) lines.push(`  steps: ${Object.keys(outputs).join(', ')} (full outputs: --json)`);
  return lines.length ? lines.join('\n') : `result: ${JSON.stringify(result).slice(0, 500)}`;
}

/** Checkpoints that retries skipped (corrupt or missing), from the search and every retrain. */
function recoveryNotes(
  search: unknown,
  outputs: Record<string, Record<string, unknown>> | undefined,
): string[] {
  const notes = [
    ...((search as { recoveries?: string[] } | undefined)?.recoveries ?? []).map((r) => `search, ${r}`),
  ];
  for (const o of Object.values(outputs ?? {})) {
    const items = Array.isArray(o?.items)
      ? (o.items as Array<{ label?: string; recoveries?: string[] }>)
      : [];
    for (const it of items) for (const r of it.recoveries ?? []) notes.push(`${it.label}, ${r}`);
  }
  return notes;
}
