// Draws run progress for people and machines: redrawn in place on a terminal, plain lines (only when
// something changed) in CI logs and files, one JSON document per snapshot with --json.
import type { ActivityProgress, RunNode, RunProgress } from '../runtime/progress';

export type ProgressMode = 'tty' | 'plain' | 'json';

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
}

function activityText(a: ActivityProgress, withRate: boolean): string {
  const parts = [a.type];
  if (a.step !== undefined) parts.push(`step ${a.step}${a.total !== undefined ? `/${a.total}` : ''}`);
  if (withRate && a.rate) parts.push(`${a.rate.toFixed(a.rate < 10 ? 2 : 1)} steps/s`);
  if (withRate && a.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(a.etaSeconds)}`);
  if (a.attempt > 1) parts.push(`attempt ${a.attempt}`);
  return parts.join('  ');
}

function nodeText(n: RunNode, withRate: boolean): string {
  const parts: string[] = [];
  let acts = n.activities;
  if (n.search) {
    const s = n.search;
    parts.push(
      `iteration ${s.iteration}/${s.maxIterations}  stage ${s.stage}  ${s.phase}${s.stopping ? ' (stopping)' : ''}`,
    );
    if (s.best[0]) parts.push(`best reward ${s.best[0].score.toFixed(3)}`);
    const rec = s.recoveries?.length ?? 0;
    if (rec) parts.push(`${rec} checkpoint recover${rec === 1 ? 'y' : 'ies'} (autogan status shows them)`);
  }
  if (n.retrain) {
    // A retrain runs in chunks; its own step count and ETA are over all chunks, not this one.
    const r = n.retrain;
    const a = acts.find((x) => x.step !== undefined);
    const step = Math.max(r.step, a?.step ?? 0);
    const text = [`${r.label}: step ${step}/${r.totalSteps}`];
    if (withRate && a?.rate) {
      text.push(
        `${a.rate.toFixed(a.rate < 10 ? 2 : 1)} steps/s`,
        `ETA ${formatDuration((r.totalSteps - step) / a.rate)}`,
      );
    }
    if (a && a.attempt > 1) text.push(`attempt ${a.attempt}`);
    parts.push(text.join('  '));
    acts = [];
  }
  if (n.status !== 'RUNNING') parts.push(n.status.toLowerCase());
  for (const a of acts) parts.push(activityText(a, withRate));
  return parts.join('  ·  ');
}

/** What a plain log prints a new block for: states, fan-out counts, search iteration and phase. */
function shapeOf(p: RunProgress): string {
  const node = (n: RunNode) =>
    `${n.status}:${n.search ? `${n.search.iteration}/${n.search.stage}/${n.search.phase}` : ''}`;
  return JSON.stringify([
    p.status,
    p.node ? node(p.node) : '',
    p.steps.map((s) => [s.state, s.fanOut?.done, s.children.map(node)]),
  ]);
}

/** The lines of one snapshot; `withRate: false` leaves out what changes on every poll. */
export function progressLines(p: RunProgress, withRate = true): string[] {
  const lines = [`${p.workflowId}: ${p.status}${p.pipeline ? ` (pipeline ${p.pipeline})` : ''}`];
  if (p.node) lines.push(`  ${nodeText(p.node, withRate)}`);
  const width = Math.max(0, ...p.steps.map((s) => s.id.length));
  for (const s of p.steps) {
    const fan = s.fanOut ? ` ${s.fanOut.done}/${s.fanOut.total}` : '';
    const head = `  ${s.id.padEnd(width)}  ${s.state}${fan}`;
    if (s.state !== 'running') {
      lines.push(`${head}${s.error ? ` — ${s.error}` : ''}`);
      continue;
    }
    if (s.children.length === 1 && !s.fanOut) {
      lines.push(`${head}  ${nodeText(s.children[0], withRate)}`);
      continue;
    }
    const acts = s.activities.map((a) => activityText(a, withRate));
    lines.push(`${head}${acts.length ? `  ${acts.join('  ·  ')}` : ''}`);
    s.children.forEach((c, i) =>
      lines.push(`  ${' '.repeat(width)}    [${i}] ${nodeText(c, withRate) || c.status.toLowerCase()}`),
    );
  }
  if (p.note) lines.push(`  (${p.note})`);
  return lines;
}

/** Writes snapshots to a stream in the chosen mode. */
export class ProgressPrinter {
  private drawn = 0;
  private lastPlain = '';
  private lastPlainAt = 0;

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
    /** In plain mode, print unchanged-shape progress at most this often. @default 30000 */
    private readonly plainEveryMs = 30000,
  ) {}

  static modeFor(
    opts: { json?: boolean },
    stream: NodeJS.WritableStream & { isTTY?: boolean },
  ): ProgressMode {
    return opts.json ? 'json' : stream.isTTY ? 'tty' : 'plain';
  }

  print(p: RunProgress): void {
    if (this.mode === 'json') {
      this.out.write(`${JSON.stringify(p)}\n`);
      return;
    }
    if (this.mode === 'tty') {
      const cols = (this.out as { columns?: number }).columns ?? 120;
      const lines = progressLines(p).map((l) => (l.length > cols - 1 ? `${l.slice(0, cols - 2)}…` : l));
      // Up to the first line drawn last time, clear to the end of the screen, draw again.
      this.out.write(`${this.drawn ? `\x1b[${this.drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
      this.drawn = lines.length;
      return;
    }
    // Plain: a new block when the shape changes (state, phase, iteration), else every plainEveryMs.
    const shape = shapeOf(p);
    const now = Date.now();
    if (shape === this.lastPlain && now - this.lastPlainAt < this.plainEveryMs) return;
    this.lastPlain = shape;
    this.lastPlainAt = now;
    this.out.write(`[${p.at.slice(11, 19)}] ${progressLines(p).join('\n')}\n`);
  }
}
