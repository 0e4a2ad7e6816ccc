// Checks of a workflow's input that a direct start (`temporal workflow start --type autogan-search`
// or `autogan-retrain`, a Schedule's action) can get wrong, run in workflow code before any
// activity: a bad value fails the run with a message instead of a workflow task retried forever
// ("Invalid duration string") or a silent default. Pure: workflow code imports it. A pipeline's
// steps are checked against the step schemas when the pipeline is loaded; these cover what the
// workflow itself reads before its first activity (which validates the rest against the schema).
import { ArchError, parseArch } from '../core/arch/encoding';

/** The `patched()` id of these checks in the search and retrain workflows (docs/operations.md, upgrades). */
export const DIRECT_INPUT_PATCH = 'direct-input-checks';

/** The step schemas' duration pattern (heartbeatTimeout, activityTimeout); a test keeps them equal. */
export const DURATION_PATTERN = /^[0-9]+(ms|s|m|h)$/;

/** Fields that hold a duration in training workflows' input. */
const DURATION_FIELDS = ['heartbeatTimeout', 'activityTimeout'] as const;

/**
 * What is wrong with a direct start's raw input (before defaults are filled): `null` values (a
 * `"gan": null` would otherwise train the paper-size defaults), durations the SDK cannot read, and
 * an architecture that is not one (a scheduled retrain of "9 9").
 */
export function directInputProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw))
    if (v === null) problems.push(`"${k}" is null: leave it out for the default, or give a value`);
  for (const k of DURATION_FIELDS) {
    const v = raw[k];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !DURATION_PATTERN.test(v)))
      problems.push(`"${k}" is ${JSON.stringify(v)}: expected a duration in ms, s, m or h, such as "2m"`);
  }
  if ('arch' in raw && raw.arch !== null) {
    const problem = archProblem(raw.arch);
    if (problem) problems.push(`"arch": ${problem}`);
  }
  return problems;
}

/** Why `arch` is not an architecture vector, or undefined when it is one. */
export function archProblem(arch: unknown): string | undefined {
  if (!Array.isArray(arch)) return `expected a list of integers, got ${JSON.stringify(arch)}`;
  try {
    parseArch(arch as number[]);
    return undefined;
  } catch (err) {
    if (err instanceof ArchError) return err.message;
    throw err;
  }
}
