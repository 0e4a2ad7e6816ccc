import { formatIssue, PipelineInvalidError } from '../pipeline/load';

/** Ends the command with an exit code (2: invalid input, nothing was started). */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}

/**
 * Loads a pipeline or study file, or ends the command with exit 2 listing every problem
 * (file:line:col) and saying that nothing was started.
 */
export function loadOrExit<T>(file: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof PipelineInvalidError) {
      const n = err.issues.length;
      throw new CliExit(
        2,
        `${err.issues.map(formatIssue).join('\n')}\n${file}: ${n} error${n === 1 ? '' : 's'}; nothing was started`,
      );
    }
    throw err;
  }
}
