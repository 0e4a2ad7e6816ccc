/** Ends the command with an exit code (2: invalid input, nothing was started). */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}
