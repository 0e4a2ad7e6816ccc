import { formatPath } from '../pipeline/positions';
import { validateStepWith } from '../pipeline/load';
import type { StepInput } from '../pipeline/plan';
import { badInput } from './errors';
import { checkWorkerPath } from './worker-paths';

/**
 * Re-validates `with` on the worker: templated values were only known at run time, and a workflow
 * started by hand (temporal workflow start) never went through the validator.
 */
export function checkedWith<T>(uses: string, input: StepInput): T {
  checkWorkerPath(input.spec?.artifacts?.path, 'spec.artifacts.path');
  if (input.spec?.dataset?.path) checkWorkerPath(input.spec.dataset.path, 'spec.dataset.path');
  const value = structuredClone(input.with);
  const errors = validateStepWith(uses, value);
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const at = formatPath(['with', ...e.instancePath.split('/').slice(1)]);
      return `${at}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`;
    });
    throw badInput(`step "${input.stepId}" (${uses}): invalid parameters:\n${lines.join('\n')}`);
  }
  return value as T;
}
