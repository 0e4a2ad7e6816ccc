// `autogan gc`: deletes what no run needs from the local artifact store (services/artifact-gc.ts)
// and, with --remote, from its S3 bucket (services/bucket-gc.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { connectClient } from '../../runtime/connection';
import { temporalLiveRefs } from '../../runtime/live-refs';
import { collectGarbage, formatGcReport, parseDuration, type TemporalRefs } from '../../services/artifact-gc';
import { resolveS3, S3_ENV, S3Store } from '../../services/artifact-store';
import { collectBucket, formatBucketGcReport } from '../../services/bucket-gc';
import { CliExit } from '../exit';
import { targetFrom, withConnectionOptions } from './connection-options';

interface GcCliOptions {
  artifacts: string;
  dryRun?: boolean;
  minAge: string;
  keepRuns: string;
  offline?: boolean;
  remote?: boolean;
  json?: boolean;
  address?: string;
  namespace?: string;
}

export function registerGcCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('gc')
      .description(
        'delete store objects nothing references any more, and stale temp files (what counts as live: ' +
          'docs/operations.md, "Disk use and autogan gc"); with an S3 store, only the local cache',
      )
      .option('--artifacts <dir>', 'the artifact store directory (spec.artifacts.path)', 'runs')
      .option('--dry-run', 'print what would be deleted; delete nothing')
      .option(
        '--min-age <duration>',
        'keep objects and temp files younger than this (e.g. 1h, 30m, 0): a checkpoint written but not yet heartbeated',
        '1h',
      )
      .option(
        '--keep-runs <n|all>',
        'only the newest N run folders (by their newest JSON file) keep their objects; folders of open workflows always do',
        'all',
      )
      .option(
        '--offline',
        'collect without a Temporal server: only run folders and --min-age protect objects (safe when no run is active, or with a --min-age longer than any training activity)',
      )
      .option(
        '--remote',
        `also collect the S3 bucket (${S3_ENV.bucket}, ${S3_ENV.prefix}, ${S3_ENV.endpoint} as on the workers) by the same rules`,
      )
      .option('--json', 'print the report as JSON'),
  ).action(async (opts: GcCliOptions) => {
    const root = path.resolve(opts.artifacts);
    const isStore = fs.existsSync(path.join(root, 'objects')) || fs.existsSync(path.join(root, 'tmp'));
    if (!isStore && !opts.remote)
      throw new CliExit(2, `autogan gc: ${root} is not an artifact store (no objects/ or tmp/ in it)`);
    let s3: ReturnType<typeof resolveS3>;
    try {
      s3 = opts.remote ? resolveS3(undefined) : undefined;
    } catch (err) {
      throw new CliExit(2, `autogan gc --remote: ${(err as Error).message}`);
    }
    if (opts.remote && !s3)
      throw new CliExit(
        2,
        `autogan gc --remote: no bucket: set ${S3_ENV.bucket} (and ${S3_ENV.prefix}, ${S3_ENV.endpoint}) as on the workers`,
      );
    let minAgeMs: number;
    try {
      minAgeMs = parseDuration(opts.minAge);
    } catch (err) {
      throw new CliExit(2, `autogan gc: --min-age: ${(err as Error).message}`);
    }
    let keepRuns: number | undefined;
    if (opts.keepRuns !== 'all') {
      keepRuns = Number(opts.keepRuns);
      if (!Number.isInteger(keepRuns) || keepRuns < 0)
        throw new CliExit(2, `autogan gc: --keep-runs takes a whole number or "all" (got ${opts.keepRuns})`);
    }
    // Ages count from now, before anything is read: an object stored while the server and the
    // folders are being read is younger than the grace period, whatever it is.
    const started = Date.now();
    let temporal: TemporalRefs | undefined;
    if (!opts.offline) {
      const target = targetFrom(opts);
      try {
        const client = await connectClient(target);
        try {
          temporal = await temporalLiveRefs(client, target);
        } finally {
          await client.connection.close();
        }
      } catch (err) {
        const why =
          `cannot read the open workflows on the Temporal server (${(err as Error).message}); ` +
          "an active run's newest checkpoint may be referenced only by its heartbeat there";
        if (!opts.dryRun)
          throw new CliExit(
            1,
            `autogan gc: ${why}. Nothing was deleted. Start the server (or point --address at it), or pass --offline ` +
              'when no run is active',
          );
        console.error(`autogan gc: ${why}; this dry run shows what --offline would delete`);
      }
    }
    if (process.env[S3_ENV.bucket] && !opts.remote)
      console.error(
        `autogan gc: ${S3_ENV.bucket} is set: ${root} is the cache of an S3 bucket; gc trims the cache (--remote collects the bucket too)`,
      );
    const report = isStore
      ? collectGarbage({
          root,
          dryRun: opts.dryRun ?? false,
          minAgeMs,
          now: started,
          ...(temporal ? { temporal } : {}),
          ...(keepRuns !== undefined ? { keepRuns } : {}),
        })
      : undefined;
    // The bucket keeps every run folder's objects (--keep-runs trims the cache only).
    const bucket = s3
      ? await collectBucket(new S3Store(root, s3), {
          dryRun: opts.dryRun ?? false,
          minAgeMs,
          now: started,
          ...(temporal ? { temporal } : {}),
        })
      : undefined;
    if (opts.json) console.log(JSON.stringify({ ...(report ?? {}), ...(bucket ? { bucket } : {}) }, null, 2));
    else
      console.log(
        [report && formatGcReport(report), bucket && formatBucketGcReport(bucket)].filter(Boolean).join('\n'),
      );
  });
}
