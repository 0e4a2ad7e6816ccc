// Thin Temporal adapters for the study workflow: its records on disk, the proxy check's picks and
// scores, and study.json with its report at the end.
import { Context } from '@temporalio/activity';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import type { PipelineResult, Plan, S3Settings } from '../pipeline/plan';
import type { StudyPlan } from '../pipeline/study';
import { artifactStore } from '../services/artifact-store';
import { derivedSeed } from '../services/search/context';
import { studyJson } from '../services/study/aggregate';
import { pickProxyArchs, type ProxyArch, type SupernetRef } from '../services/study/proxy';
import {
  cellRecord,
  finishedRecords,
  writeCellRecord,
  writeProxyRecord,
  type CellRecord,
  type ProxyRecord,
} from '../services/study/records';
import { studyHtml } from '../services/study/report';
import { reportFromFolder } from '../services/report/data';
import { reportHtml } from '../services/report/html';
import type { IterationSummary } from '../workflows/search';
import { asNonRetryable } from './errors';
import { activityHooks } from './heartbeat';
import { tensorCall } from './tensor-call';
import { checkWorkerPath } from './worker-paths';

/** The study's folder: <artifacts>/<study id>/ (cells/, proxy.json, study.json, report.html). */
function studyDir(artifacts: string, studyId: string): string {
  checkWorkerPath(artifacts, 'artifacts');
  return artifactStore({ artifacts }).runDir(studyId);
}

/** The cells (and proxy check) a study started before already finished. */
export async function studyFinished(artifacts: string, studyId: string, cells: string[]) {
  return finishedRecords(studyDir(artifacts, studyId), cells);
}

/** Wall-clock seconds of a closed workflow (start to close), from the server. */
async function wallSeconds(workflowId: string): Promise<number> {
  const d = await Context.current().client.workflow.getHandle(workflowId).describe();
  return d.closeTime ? (d.closeTime.getTime() - d.startTime.getTime()) / 1000 : 0;
}

/** A finished cell's record, written to cells/<cell>.json. */
export async function studyRecordCell(
  artifacts: string,
  studyId: string,
  cell: { id: string; variant: string; seed: number; plan: Plan },
  workflowId: string,
  result: PipelineResult,
): Promise<CellRecord> {
  try {
    const searchStep = cell.plan.steps.find((s) => s.uses === 'autogan.search')?.id;
    let history: IterationSummary[] = [];
    if (searchStep) {
      const search = result.outputs[searchStep] as { params?: { artifacts: string; s3?: S3Settings } };
      const file = path.join(
        artifactStore(search.params ?? { artifacts }).runDir(`${workflowId}.${searchStep}`),
        'search-history.json',
      );
      try {
        history = JSON.parse(fs.readFileSync(file, 'utf8')) as IterationSummary[];
      } catch {
        history = []; // a search without a history file (remote store): the record has no curve
      }
    }
    const r = cellRecord(
      cell,
      workflowId,
      result,
      { computeSeconds: await wallSeconds(workflowId) },
      history,
    );
    writeCellRecord(studyDir(artifacts, studyId), r);
    cellFolder(cell.plan.spec.artifacts.path, workflowId, result);
    return r;
  } catch (err) {
    throw asNonRetryable(err);
  }
}

/**
 * The cell's own run folder gets what `autogan run` leaves: result.json and report.html (a report
 * problem only costs the report).
 */
function cellFolder(artifacts: string, workflowId: string, result: PipelineResult): void {
  const dir = artifactStore({ artifacts }).runDir(workflowId);
  writeFileAtomic(path.join(dir, 'result.json'), JSON.stringify(result, null, 2));
  try {
    writeFileAtomic(path.join(dir, 'report.html'), reportHtml(reportFromFolder(dir)));
  } catch (err) {
    console.error(`[autogan] no report for ${workflowId}: ${(err as Error).message}`);
  }
}

/** The proxy check's architectures (seeded by the study's id, so a rerun picks the same). */
export async function studyProxyPick(
  studyId: string,
  records: CellRecord[],
  opts: { policyPerSeed: number; random: number },
): Promise<ProxyArch[]> {
  return pickProxyArchs(records, { ...opts, seed: derivedSeed({ seed: 0 }, 'study-proxy', studyId) });
}

/** Proxy scores on the final supernets (tensor work: runs on the gpu queue, in a tensor host). */
export async function studyProxyScore(supernets: SupernetRef[], archs: number[][], draws: number) {
  try {
    const backend = supernets[0]?.params.backend ?? 'auto';
    return await tensorCall('proxyScores', [supernets, archs, draws], activityHooks(), backend);
  } catch (err) {
    throw asNonRetryable(err);
  }
}

/** The proxy check's record (proxy.json) from its picks, scores and retrain pipeline's result. */
export async function studyRecordProxy(
  artifacts: string,
  studyId: string,
  info: { variant: string; iterations: number; draws: number; supernets: number },
  picked: ProxyArch[],
  scores: number[],
  retrainWorkflowId: string,
  result: PipelineResult,
): Promise<ProxyRecord> {
  const points = picked.map((a, i) => {
    const out = result.outputs[`a${i}`] as { final?: { is: number; fid: number | null } } | undefined;
    if (!out?.final) throw asNonRetryable(new Error(`proxy retrain a${i} has no final evaluation`));
    return { arch: a.arch, source: a.source, proxy: scores[i], real: out.final.is, fid: out.final.fid };
  });
  const r: ProxyRecord = {
    ...info,
    retrainSeconds: +(await wallSeconds(retrainWorkflowId)).toFixed(1),
    points,
  };
  writeProxyRecord(studyDir(artifacts, studyId), r);
  return r;
}

/** study.json and report.html in the study's folder. */
export async function studyWrite(
  plan: StudyPlan,
  studyId: string,
  records: CellRecord[],
  proxy: ProxyRecord | null,
): Promise<{ studyJson: string; report: string; missing: string[] }> {
  const dir = studyDir(plan.artifacts, studyId);
  const root = path.dirname(plan.source);
  const json = studyJson(plan, studyId, records, proxy, (f) => path.relative(root, f) || f);
  const file = path.join(dir, 'study.json');
  writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n');
  const report = path.join(dir, 'report.html');
  writeFileAtomic(report, studyHtml(json));
  return { studyJson: file, report, missing: json.missing };
}
