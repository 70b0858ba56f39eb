// Errors a user can act on. Every layer throws these for bad input or a broken environment; the
// CLI prints `message` and `hint` on one line each and exits with the code of the error's kind,
// never a stack trace. Anything that is not a FerryError is a bug in Ferry and is printed with
// its stack. The exit code of every outcome is decided here and nowhere else.

export const EXIT_OK = 0;
/** Some items failed; the rest were done and verified. */
export const EXIT_PARTIAL = 1;
/** Usage, configuration or environment error: nothing was attempted. */
export const EXIT_USAGE = 2;
/** A bug in Ferry: an error nobody anticipated. */
export const EXIT_BUG = 70;

/**
 * What went wrong, by who can fix it:
 * - usage: the command line itself (a flag, an argument);
 * - config: a file or parameter the user wrote (a tab YAML, a layout, job parameters);
 * - environment: something outside Ferry (a server down, a missing bucket, refused credentials,
 *   a full disk) that stops the whole command or run;
 * - item: one file, tile or job failed; the rest went on.
 */
export type FailureKind = 'usage' | 'config' | 'environment' | 'item';

export function exitCodeOf(kind: FailureKind): number {
  return kind === 'item' ? EXIT_PARTIAL : EXIT_USAGE;
}

export interface FerryErrorOptions {
  hint?: string;
  kind?: FailureKind;
  /** Older spelling of `kind`: 1 is an item failure, 2 an environment error. */
  exitCode?: number;
  /** Machine-readable reason, e.g. 'NoSuchBucket', 'ENOENT'. */
  code?: string;
  cause?: unknown;
}

export class FerryError extends Error {
  readonly hint: string | undefined;
  readonly kind: FailureKind;
  /** Machine-readable reason, e.g. 'NoSuchBucket', 'ENOENT'. */
  readonly code: string | undefined;

  constructor(message: string, opts: FerryErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FerryError';
    this.hint = opts.hint;
    this.kind = opts.kind ?? (opts.exitCode === EXIT_PARTIAL ? 'item' : opts.exitCode === EXIT_USAGE ? 'environment' : 'usage');
    this.code = opts.code;
  }

  get exitCode(): number {
    return exitCodeOf(this.kind);
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

/**
 * True for failures that stop a whole command or run rather than one item: a user mistake or an
 * environment that is broken for every item alike (an unreachable host, a missing bucket).
 */
export function stopsEverything(e: unknown): boolean {
  return e instanceof FerryError && e.kind !== 'item';
}

/** The exit code a thrown value means: its kind for a FerryError, EXIT_BUG for anything else. */
export function exitCodeOfError(e: unknown): number {
  return e instanceof FerryError ? e.exitCode : EXIT_BUG;
}

/** The exit code of finished work: 0 only when every item was done and verified. */
export function exitCodeOfOutcome(o: { failed: number; incomplete?: boolean }): number {
  return o.failed > 0 || o.incomplete ? EXIT_PARTIAL : EXIT_OK;
}

/** Message of any thrown value, for logs and job records. */
export function errorMessage(e: unknown): string {
  if (e instanceof FerryError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
