// `autogan gc --remote`: the local store's rules applied to an S3 bucket. An object under
// <prefix>/objects/ is deleted only when nothing references it — not the Temporal server (open
// workflows, failed/terminated ones within retention, Schedules), not a run folder's JSON in the
// bucket or in the local cache — and its last write is older than the grace period. A worker that
// stores an object again makes it young (services/artifact-store.ts touches it), and each object is
// checked again just before its delete, so a reference handed out meanwhile keeps it.
import * as fs from 'node:fs';
import { refsIn, runFolderRefs, type GcEntry, type TemporalRefs } from './artifact-gc';
import type { S3Store } from './artifact-store';

export interface BucketGcOptions {
  /** Report only; delete nothing. */
  dryRun?: boolean;
  /** Objects younger than this are kept (ms). */
  minAgeMs: number;
  /** What the Temporal server holds; absent: not consulted (offline). */
  temporal?: TemporalRefs;
  /** When the pass started (ms since the epoch), before `temporal` was gathered. @default Date.now() */
  now?: number;
}

export interface BucketGcReport {
  location: string;
  dryRun: boolean;
  minAgeSeconds: number;
  objects: { count: number; bytes: number };
  live: { count: number; bytes: number };
  young: { count: number; bytes: number };
  /** Run JSON files in the bucket whose references were read. */
  runFiles: number;
  deleted: GcEntry[];
  deletedBytes: number;
  /** Objects written again between the listing and the delete: kept. */
  raced: number;
}

const REF_FILE = /\/objects\/[0-9a-f]{2}\/([0-9a-f]{64}\.[a-z0-9]+)$/;

export async function collectBucket(store: S3Store, o: BucketGcOptions): Promise<BucketGcReport> {
  const now = o.now ?? Date.now();
  const dryRun = o.dryRun ?? false;
  const remote = await store.client();
  // Live: the server's references first, then the durable JSON (bucket and cache), then the listing.
  const live = new Set(o.temporal?.refs ?? []);
  if (fs.existsSync(store.root))
    for (const f of runFolderRefs(store.root)) for (const r of f.refs) live.add(r);
  let runFiles = 0;
  for await (const f of remote.list(`${store.key('runs')}/`)) {
    if (!f.key.endsWith('.json')) continue;
    const text = await remote.text(f.key);
    if (text === null) continue;
    refsIn(text, live);
    runFiles++;
  }
  const report: BucketGcReport = {
    location: store.location,
    dryRun,
    minAgeSeconds: o.minAgeMs / 1000,
    objects: { count: 0, bytes: 0 },
    live: { count: 0, bytes: 0 },
    young: { count: 0, bytes: 0 },
    runFiles,
    deleted: [],
    deletedBytes: 0,
    raced: 0,
  };
  for await (const x of remote.list(`${store.key('objects')}/`)) {
    const ref = REF_FILE.exec(`/${x.key}`)?.[1];
    if (!ref) continue; // not ours
    report.objects.count++;
    report.objects.bytes += x.size;
    if (live.has(ref)) {
      report.live.count++;
      report.live.bytes += x.size;
      continue;
    }
    const age = now - x.lastModified.getTime();
    if (age < o.minAgeMs) {
      report.young.count++;
      report.young.bytes += x.size;
      continue;
    }
    const entry = { name: ref, bytes: x.size, ageSeconds: age / 1000 };
    if (!dryRun) {
      const again = await remote.head(x.key);
      if (!again) continue; // deleted by someone else meanwhile
      if (again.lastModified.getTime() !== x.lastModified.getTime()) {
        report.raced++;
        continue;
      }
      await remote.remove(x.key);
    }
    report.deleted.push(entry);
    report.deletedBytes += x.size;
  }
  return report;
}

export function formatBucketGcReport(r: BucketGcReport): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return [
    `bucket ${r.location}${r.dryRun ? ' (dry run: nothing deleted)' : ''}`,
    `  objects ${r.objects.count} (${mb(r.objects.bytes)}); live ${r.live.count} (${mb(r.live.bytes)}); younger than ${r.minAgeSeconds} s ${r.young.count} (${mb(r.young.bytes)}); run JSON files read ${r.runFiles}`,
    `  ${r.dryRun ? 'would delete' : 'deleted'} ${r.deleted.length} (${mb(r.deletedBytes)})${r.raced ? `; ${r.raced} written again meanwhile, kept` : ''}`,
  ].join('\n');
}
