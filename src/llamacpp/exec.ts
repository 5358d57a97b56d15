import fs from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { InterruptedError } from '../errors.js';
import { killGroup, trackChildGroup } from '../util/cleanup.js';

export { findOnPath } from '../util/which.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Every output line (stdout and stderr interleaved), as it comes. */
  onLine?: (line: string) => void;
  /** Appended to, raw, as output comes. */
  logFd?: number;
  /** Text passed to the process on stdin. */
  input?: string;
}

export interface RunResult {
  exitCode: number;
  output: string;
}

/**
 * Runs a command in its own process group and collects its output. When `signal` aborts, the
 * whole group gets SIGTERM, then SIGKILL 3 s later: cmake spawns make, make spawns compilers,
 * and killing only cmake would leave them running. Rejects with InterruptedError on abort;
 * otherwise resolves with the exit code (never rejects for a non-zero exit).
 */
export async function runGrouped(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new InterruptedError();
  const win = process.platform === 'win32';
  const child: ResultPromise = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
    all: true,
    reject: false,
    buffer: false,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    detached: !win,
    windowsHide: true,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 3000,
  });
  const pid = child.pid;
  const untrack = trackChildGroup(pid);
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), 3000);
    killTimer.unref();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const chunks: string[] = [];
  let size = 0;
  let pending = '';
  child.all?.on('data', (buf: Buffer) => {
    if (opts.logFd !== undefined) fs.writeSync(opts.logFd, buf);
    const text = buf.toString('utf8');
    chunks.push(text);
    size += text.length;
    while (size > 4_000_000 && chunks.length > 1) size -= chunks.shift()!.length;
    if (opts.onLine) {
      pending += text;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const l of lines) opts.onLine(l);
    }
  });
  try {
    const result = await child;
    if (pending && opts.onLine) opts.onLine(pending);
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new InterruptedError();
    const code = result.exitCode ?? (result.signal ? 128 : 1);
    return { exitCode: code, output: chunks.join('') };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    untrack();
    if (killTimer && !opts.signal?.aborted) clearTimeout(killTimer);
    // Whatever happened, nothing of the group may outlive us.
    if (pid !== undefined && opts.signal?.aborted) killGroup(pid, 'SIGKILL');
  }
}

/** Runs a short command and returns trimmed stdout, or null when it fails or is absent. */
export async function tryOutput(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; all?: boolean } = {}): Promise<string | null> {
  try {
    const r = await execa(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      reject: false,
      timeout: opts.timeoutMs ?? 20_000,
      stdin: 'ignore',
      all: true,
      windowsHide: true,
    });
    if (r.exitCode !== 0 || r.failed) return null;
    return String((opts.all ? r.all : r.stdout) ?? '').trim();
  } catch {
    return null;
  }
}

/** Runs git; throws with git's own stderr when it fails. */
export async function git(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<string> {
  const r = await execa('git', args, {
    cwd: opts.cwd,
    env: { GIT_TERMINAL_PROMPT: '0', ...opts.env },
    reject: false,
    stdin: 'ignore',
    cancelSignal: opts.signal,
    windowsHide: true,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new InterruptedError();
  if (r.exitCode !== 0) {
    const err = new Error(`git ${args.join(' ')} failed (exit ${r.exitCode}): ${String(r.stderr || r.stdout).trim()}`);
    (err as Error & { stderr?: string }).stderr = String(r.stderr ?? '');
    throw err;
  }
  return String(r.stdout ?? '').trim();
}
