// Errors a user can act on. Every layer throws these for bad input or a broken environment; the
// CLI prints `message` and `hint` on one line each and exits with `exitCode`, never a stack trace.
// Anything that is not a FerryError is a bug in Ferry and is printed with its stack.

export const EXIT_OK = 0;
/** Some items failed; the rest were done and verified. */
export const EXIT_PARTIAL = 1;
/** Usage, configuration or environment error: nothing was attempted. */
export const EXIT_USAGE = 2;

export class FerryError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  /** Machine-readable reason, e.g. 'NoSuchBucket', 'ENOENT'. */
  readonly code: string | undefined;

  constructor(message: string, opts: { hint?: string; exitCode?: number; code?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FerryError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_USAGE;
    this.code = opts.code;
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

/** Message of any thrown value, for logs and job records. */
export function errorMessage(e: unknown): string {
  if (e instanceof FerryError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
