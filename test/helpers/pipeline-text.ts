import { parsePipeline, type PipelineIssue } from '../../pipeline/load';
import type { Plan } from '../../pipeline/plan';

/** Validates YAML text as if it were the file `test.yaml`. */
export function check(text: string): { plan?: Plan; issues: PipelineIssue[] } {
  return parsePipeline(text, 'test.yaml', { cwd: '/tmp' });
}

/** The smallest valid pipeline header, with `steps` appended by the caller. */
export const HEADER = `apiVersion: autogan/v1
kind: Pipeline
metadata:
  name: t
spec:
  dataset:
    kind: mnist
  steps:
`;
