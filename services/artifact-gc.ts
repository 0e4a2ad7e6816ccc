// Garbage collection of the local artifact store (`autogan gc`): objects in <root>/objects that
// nothing live references, and stale temp files in <root>/tmp, are deleted.
//
// Live: every "<sha256>.<ext>" reference in a run folder's JSON files (search-state.json's
// supernet and controller, result.json and evaluation.json's retrained checkpoints, anything else),
// plus, given by the caller (runtime/live-refs.ts), every reference an open workflow holds on the
// Temporal server (its inputs and activity results, its pending activities' heartbeat details —
// the checkpoint a retry resumes from), the whole histories of failed, terminated, timed-out and
// cancelled workflows (a reset or resume restarts from them), Schedules' actions (a scheduled
// evaluation's checkpoint) and the results of completed workflows; plus a grace
// period: nothing younger than `minAgeMs` is deleted, which covers a checkpoint written but not yet
// heartbeated. An object's age is its mtime, which a writer refreshes when it stores the same bytes
// again (core/artifacts storeArtifact), so a reference just handed out is never "old".
//
// Concurrent writers: an object is deleted only by its exact reference, after a rename out of the
// way (objects/aa/<ref>.gc-<pid>) and a second look at its mtime: a writer that touched it in
// between gets it renamed back; a writer that comes after the rename finds no object and renames
// its own copy in. Reading a deleted object fails with "missing": only unreferenced objects are.
//
// Only the local directory: with an S3-compatible store it is the read-through cache, and the
// bucket itself is not collected.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REF_PATTERN, safeName, type ArtifactRef } from '../core/artifacts';

/** Every artifact reference in a text (hex not part of a longer hex run). */
const REFS_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{64}\.[a-z0-9]+(?![a-z0-9])/g;

export function refsIn(text: string, into: Set<ArtifactRef> = new Set()): Set<ArtifactRef> {
  for (const m of text.matchAll(REFS_IN_TEXT)) into.add(m[0]);
  return into;
}

/** Folders of the store root that are not run folders. */
const STORE_DIRS = new Set(['objects', 'tmp']);
/** Run-folder-like folders that never count against --keep-runs (real-image statistics). */
const SHARED_DIRS = new Set(['cache']);
/** JSON files larger than this are not read (a run's own files are far smaller). */
const MAX_JSON_BYTES = 256 * 1024 * 1024;
const MAX_DEPTH = 4;
const QUARANTINE = /^([0-9a-f]{64}\.[a-z0-9]+)\.gc-(\d+)$/;

/** The references open and completed workflows hold on a Temporal server (runtime/live-refs.ts). */
export interface TemporalRefs {
  address: string;
  namespace: string;
  refs: Set<ArtifactRef>;
  /** Open workflows scanned (ids), for the report and --keep-runs. */
  open: string[];
  /** Completed workflows whose results were scanned. */
  completed: number;
  /**
   * Failed, terminated, timed-out and cancelled workflows still within retention, whose whole
   * histories were scanned: `temporal workflow reset` or a resume restarts them from what they hold.
   * @default 0
   */
  closed?: number;
  /** Schedules whose actions were scanned (a scheduled evaluation names its checkpoint). @default 0 */
  schedules?: number;
}

export interface GcOptions {
  /** The store's root directory (the `artifacts` path). */
  root: string;
  /** Report only; delete nothing. */
  dryRun?: boolean;
  /** Objects and temp files younger than this are kept (milliseconds). */
  minAgeMs: number;
  /** What the Temporal server holds; absent: not consulted (offline). */
  temporal?: TemporalRefs;
  /**
   * Only the newest N run folders (by their newest JSON file) keep their references alive; a run
   * folder of an open workflow always does. @default all
   */
  keepRuns?: number;
  /**
   * When the pass started (ms since the epoch), before `temporal` was gathered: ages count from
   * here, so an object stored while the pass reads the server and the folders is always young.
   * @default Date.now()
   */
  now?: number;
}

export interface RunFolder {
  name: string;
  refs: number;
  /** mtime of its newest JSON file (ms). */
  newest: number;
  /** Its references count as live. */
  kept: boolean;
  /** Why not, when not kept. */
  dropped?: string;
}

export interface GcEntry {
  /** A reference (objects) or a path relative to the root (temp files). */
  name: string;
  bytes: number;
  ageSeconds: number;
}

export interface GcReport {
  root: string;
  dryRun: boolean;
  minAgeSeconds: number;
  /** Objects in the store before collection. */
  objects: { count: number; bytes: number };
  /** Referenced objects present in the store. */
  live: { count: number; bytes: number };
  /** Unreferenced objects kept for being younger than the grace period. */
  young: { count: number; bytes: number };
  /** Objects deleted (or, in a dry run, that would be). */
  deleted: GcEntry[];
  deletedBytes: number;
  /** Stale temp files deleted (or that would be). */
  tmp: GcEntry[];
  tmpBytes: number;
  /** Referenced by a kept run folder but not in the store (already gone: informational). */
  missing: ArtifactRef[];
  runs: RunFolder[];
  temporal: {
    address: string;
    namespace: string;
    open: number;
    completed: number;
    /** Failed, terminated, timed-out or cancelled workflows within retention. */
    closed: number;
    schedules: number;
    refs: number;
  } | null;
  /** Objects a writer touched between the scan and the delete: kept. */
  raced: number;
}

function walkJson(dir: string, depth: number, visit: (file: string, st: fs.Stats) => void): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < MAX_DEPTH) walkJson(file, depth + 1, visit);
    } else if (e.isFile() && e.name.endsWith('.json')) {
      try {
        const st = fs.statSync(file);
        if (st.size <= MAX_JSON_BYTES) visit(file, st);
      } catch {
        // vanished meanwhile (an atomic rewrite): its successor is the newer file
      }
    }
  }
}

/** The references of every run folder's JSON files (and of JSON files at the root). */
export function runFolderRefs(root: string): Array<{ name: string; refs: Set<ArtifactRef>; newest: number }> {
  const out: Array<{ name: string; refs: Set<ArtifactRef>; newest: number }> = [];
  const top = { name: '', refs: new Set<ArtifactRef>(), newest: 0 };
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.json')) {
      try {
        refsIn(fs.readFileSync(path.join(root, e.name), 'utf8'), top.refs);
      } catch {
        // vanished meanwhile
      }
    }
    if (!e.isDirectory() || STORE_DIRS.has(e.name)) continue;
    const run = { name: e.name, refs: new Set<ArtifactRef>(), newest: 0 };
    walkJson(path.join(root, e.name), 1, (file, st) => {
      try {
        refsIn(fs.readFileSync(file, 'utf8'), run.refs);
        run.newest = Math.max(run.newest, st.mtimeMs);
      } catch {
        // vanished meanwhile
      }
    });
    out.push(run);
  }
  if (top.refs.size) out.push(top);
  return out;
}

/** The folder name a workflow id's run folder has (core/artifacts runDir). */
const folderOf = safeName;

interface StoredObject {
  ref: ArtifactRef;
  file: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * A collection renames an object aside for well under a second. An aside file older than this
 * was left by a collection that died, whatever its pid says: in containers pids repeat across
 * hosts and restarts (pid 1 always exists), so the pid alone cannot tell.
 */
const ASIDE_ABANDONED_MS = 10 * 60 * 1000;

function mayBeInProgress(pid: number, asideFile: string): boolean {
  if (pid === process.pid) return false;
  try {
    // The rename set the change time (a rename keeps the mtime).
    if (Date.now() - fs.statSync(asideFile).ctimeMs > ASIDE_ABANDONED_MS) return false;
  } catch {
    return true; // gone meanwhile: its collection handled it
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Puts back objects an interrupted collection left renamed aside (objects/aa/<ref>.gc-<pid>). */
function restoreQuarantined(dir: string, name: string): void {
  const m = QUARANTINE.exec(name);
  if (!m || mayBeInProgress(Number(m[2]), path.join(dir, name))) return; // another collection at work
  const aside = path.join(dir, name);
  const file = path.join(dir, m[1]);
  try {
    if (fs.existsSync(file)) fs.unlinkSync(aside);
    else fs.renameSync(aside, file);
  } catch {
    // another collection is handling it
  }
}

/** The store's objects; `restore`: put back what an interrupted collection left aside (not in a dry run). */
function listObjects(root: string, restore: boolean): StoredObject[] {
  const objects = path.join(root, 'objects');
  const out: StoredObject[] = [];
  let shards: string[] = [];
  try {
    shards = fs.readdirSync(objects);
  } catch {
    return out;
  }
  for (const shard of shards) {
    const dir = path.join(objects, shard);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (QUARANTINE.test(name)) {
        if (restore) restoreQuarantined(dir, name);
        continue;
      }
      if (!REF_PATTERN.test(name) || name.slice(0, 2) !== shard) continue;
      try {
        const st = fs.statSync(path.join(dir, name));
        if (st.isFile())
          out.push({ ref: name, file: path.join(dir, name), bytes: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // vanished meanwhile
      }
    }
  }
  // Any restored ones are picked up by the next collection (they are old; nothing lost meanwhile).
  return out;
}

/**
 * Deletes one object unless a writer stored it again since the scan: renamed aside first, its
 * mtime checked again, then unlinked (or renamed back). True when deleted.
 */
function deleteObject(o: StoredObject, minAgeMs: number): 'deleted' | 'gone' | 'raced' {
  const aside = `${o.file}.gc-${process.pid}`;
  try {
    fs.renameSync(o.file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const st = fs.statSync(aside);
    if (Date.now() - st.mtimeMs < minAgeMs || st.mtimeMs !== o.mtimeMs) {
      // Touched by a writer's dedupe between the scan and the rename: it is in use again.
      fs.renameSync(aside, o.file);
      return 'raced';
    }
    fs.unlinkSync(aside);
    return 'deleted';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

/** Stale temp files: <root>/tmp/* older than the grace period (a writer's file is renamed within seconds). */
function staleTemps(root: string, now: number, minAgeMs: number): Array<GcEntry & { file: string }> {
  const dir = path.join(root, 'tmp');
  const out: Array<GcEntry & { file: string }> = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      if (!st.isFile() || now - st.mtimeMs < minAgeMs) continue;
      out.push({ name: path.join('tmp', name), file, bytes: st.size, ageSeconds: (now - st.mtimeMs) / 1000 });
    } catch {
      // renamed into objects/ meanwhile
    }
  }
  return out;
}

/** Collects the store at `o.root`; see the file's header for what is live. */
export function collectGarbage(o: GcOptions): GcReport {
  const now = o.now ?? Date.now();
  const dryRun = o.dryRun ?? false;
  // Temporal's references were gathered before the folders are read: a reference moving from a
  // workflow into a durable file meanwhile is seen in one of the two.
  const live = new Set<ArtifactRef>(o.temporal?.refs ?? []);
  const openFolders = new Set((o.temporal?.open ?? []).map(folderOf));
  const folders = runFolderRefs(o.root);
  const ranked = folders
    .filter((f) => f.name && !SHARED_DIRS.has(f.name) && !openFolders.has(f.name))
    .sort((a, b) => b.newest - a.newest);
  const dropped = new Set(o.keepRuns === undefined ? [] : ranked.slice(o.keepRuns).map((f) => f.name));
  const runs: RunFolder[] = [];
  const onDisk = new Set<ArtifactRef>();
  for (const f of folders) {
    const kept = !dropped.has(f.name);
    if (kept)
      for (const r of f.refs) {
        live.add(r);
        onDisk.add(r);
      }
    runs.push({
      name: f.name || '(store root)',
      refs: f.refs.size,
      newest: f.newest,
      kept,
      ...(kept ? {} : { dropped: `older than the newest ${o.keepRuns} run folders (--keep-runs)` }),
    });
  }

  const objects = listObjects(o.root, !dryRun);
  const present = new Set(objects.map((x) => x.ref));
  const report: GcReport = {
    root: o.root,
    dryRun,
    minAgeSeconds: o.minAgeMs / 1000,
    objects: { count: objects.length, bytes: objects.reduce((a, x) => a + x.bytes, 0) },
    live: { count: 0, bytes: 0 },
    young: { count: 0, bytes: 0 },
    deleted: [],
    deletedBytes: 0,
    tmp: [],
    tmpBytes: 0,
    missing: [...onDisk].filter((r) => !present.has(r)).sort(),
    runs,
    temporal: o.temporal
      ? {
          address: o.temporal.address,
          namespace: o.temporal.namespace,
          open: o.temporal.open.length,
          completed: o.temporal.completed,
          closed: o.temporal.closed ?? 0,
          schedules: o.temporal.schedules ?? 0,
          refs: o.temporal.refs.size,
        }
      : null,
    raced: 0,
  };
  for (const x of objects) {
    if (live.has(x.ref)) {
      report.live.count++;
      report.live.bytes += x.bytes;
      continue;
    }
    const age = now - x.mtimeMs;
    if (age < o.minAgeMs) {
      report.young.count++;
      report.young.bytes += x.bytes;
      continue;
    }
    const entry = { name: x.ref, bytes: x.bytes, ageSeconds: age / 1000 };
    if (dryRun) {
      report.deleted.push(entry);
      report.deletedBytes += x.bytes;
      continue;
    }
    const r = deleteObject(x, o.minAgeMs);
    if (r === 'deleted') {
      report.deleted.push(entry);
      report.deletedBytes += x.bytes;
    } else if (r === 'raced') report.raced++;
  }
  for (const t of staleTemps(o.root, now, o.minAgeMs)) {
    if (!dryRun) {
      try {
        fs.unlinkSync(t.file);
      } catch {
        continue; // renamed or removed meanwhile
      }
    }
    report.tmp.push({ name: t.name, bytes: t.bytes, ageSeconds: t.ageSeconds });
    report.tmpBytes += t.bytes;
  }
  return report;
}

/** Size and count of the store's objects (for benchmarks and tests). */
export function storeSize(root: string): { count: number; bytes: number } {
  const objects = listObjects(root, false); // a measurement changes nothing
  return { count: objects.length, bytes: objects.reduce((a, x) => a + x.bytes, 0) };
}

/** A duration such as 1h, 30m, 90s, 500ms, 2d (a bare number: seconds) in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 1h, 30m, 90s, 0)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function formatAge(s: number): string {
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** The report as the command prints it: one line per deleted object and temp file, then totals. */
export function formatGcReport(r: GcReport): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const lines: string[] = [];
  for (const d of r.deleted)
    lines.push(`${verb} ${d.name}  ${formatBytes(d.bytes)}  (${formatAge(d.ageSeconds)} old)`);
  for (const t of r.tmp)
    lines.push(`${verb} ${t.name}  ${formatBytes(t.bytes)}  (${formatAge(t.ageSeconds)} old)`);
  const keptRuns = r.runs.filter((x) => x.kept).length;
  lines.push(
    `store ${r.root}: ${r.objects.count} objects, ${formatBytes(r.objects.bytes)}`,
    `  live: ${r.live.count} objects, ${formatBytes(r.live.bytes)} (referenced by ${keptRuns} run folder${keptRuns === 1 ? '' : 's'}${
      r.temporal
        ? `, ${r.temporal.open} open, ${r.temporal.closed} failed/terminated/timed-out/cancelled and ${r.temporal.completed} completed workflows and ${r.temporal.schedules} schedules on ${r.temporal.address}/${r.temporal.namespace}`
        : '; Temporal not consulted'
    })`,
    `  kept as younger than ${formatAge(r.minAgeSeconds)}: ${r.young.count} objects, ${formatBytes(r.young.bytes)}`,
  );
  for (const x of r.runs.filter((x) => !x.kept)) lines.push(`  not protecting: ${x.name} (${x.dropped})`);
  if (r.raced) lines.push(`  stored again while collecting (kept): ${r.raced}`);
  if (r.missing.length)
    lines.push(
      `  referenced but already absent: ${r.missing.length} (e.g. ${r.missing.slice(0, 3).join(', ')})`,
    );
  lines.push(
    `${r.dryRun ? 'dry run: would delete' : 'deleted'} ${r.deleted.length} objects, ${formatBytes(r.deletedBytes)}; ${r.tmp.length} stale temp files, ${formatBytes(r.tmpBytes)}`,
  );
  return lines.join('\n');
}
