/**
 * The one error type users see. Raised where a problem is understood; printed once, by
 * `src/cli.ts`, as a single line (plus the hint) with the exit code it carries.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Stopped by a signal: 128 + its number, as shells report it. */
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface UserErrorOptions {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.failure;
  }
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: EXIT.usage });
    this.name = 'UsageError';
  }
}

/** Ctrl-C, SIGTERM or SIGHUP: the run stopped on purpose; exit 130, 143 or 129. */
export class InterruptedError extends UserError {
  constructor(message = 'interrupted', exitCode: ExitCode = EXIT.interrupted) {
    super(message, { exitCode });
    this.name = 'InterruptedError';
  }
}

/** The single line printed for a user error: what is wrong, then what to do. */
export function formatUserError(err: UserError): string {
  return err.hint ? `${err.message} — ${err.hint}` : err.message;
}
