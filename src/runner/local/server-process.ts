/**
 * A llama-server we start for one run: on 127.0.0.1 at a port we pick, with `slots` parallel
 * sequences, killed when the run ends (stop()), on Ctrl-C (execa's cancelSignal) or on a hard
 * exit (cleanup.ts kills tracked children).
 */
import { execa, type ResultPromise } from 'execa';
import { interruptSignal, interruption, trackChild } from '../../util/cleanup.js';
import { UserError } from '../../errors.js';
import { freeLoopbackPort } from './free-port.js';
import { waitHealthy } from './health.js';
import { MEDIA_MARKER } from '../request/prompt.js';
import { findOnPath } from '../../util/which.js';

export interface ServerSetup {
  readonly server: string;
  readonly model: string;
  readonly mmproj: string;
  readonly threads: number;
  /** Parallel slots: windows decoded at once, batched together. */
  readonly slots: number;
  /** Context of one slot; the server gets slots × this. */
  readonly slotContext: number;
  /** Added to the command line (tests, benchmarks). */
  readonly extraArgs?: readonly string[];
  readonly startTimeoutMs?: number;
}

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** Whether the process is still running (false once it exited or was killed). */
  alive(): boolean;
  stop(): Promise<void>;
}

const TAIL_LINES = 15;
/** A taken port shows as an early exit; another port is tried this many times. */
const PORT_ATTEMPTS = 3;

export function serverArgs(setup: ServerSetup, port: number): string[] {
  return [
    '-m', setup.model,
    '--mmproj', setup.mmproj,
    '--host', '127.0.0.1',
    '--port', String(port),
    '-np', String(setup.slots),
    '-c', String(setup.slots * setup.slotContext),
    '-t', String(setup.threads),
    '--cont-batching',
    // Each window is a new prompt: a prompt cache in RAM only costs memory.
    '--cache-ram', '0',
    '--no-webui',
    '--no-warmup',
    ...(setup.extraArgs ?? []),
  ];
}

export async function startServer(setup: ServerSetup): Promise<RunningServer> {
  let lastTail = '';
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const started = await tryStart(setup, port);
    if ('server' in started) return started.server;
    lastTail = started.tail;
    if (!/bind|address already in use/i.test(lastTail)) break;
  }
  throw new UserError(`llama-server did not start${lastTail ? `: ${lastTail.split('\n').pop()}` : ''}`, {
    hint: 'run with --runner subprocess, or --verbose for details',
  });
}

/**
 * The command line that starts the server. On Linux it goes through util-linux `setpriv
 * --pdeathsig KILL` when there is one: should this process die without cleaning up (SIGKILL, a
 * crash), the kernel kills the server too instead of leaving a model-sized orphan behind.
 */
function serverCommand(setup: ServerSetup, port: number): [string, string[]] {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : null;
  const args = serverArgs(setup, port);
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', setup.server, ...args]] : [setup.server, args];
}

async function tryStart(setup: ServerSetup, port: number): Promise<{ server: RunningServer } | { tail: string }> {
  const url = `http://127.0.0.1:${port}`;
  const [command, args] = serverCommand(setup, port);
  const child: ResultPromise = execa(command, args, {
    // The marker our prompt carries: fixed, rather than the random one the server would pick.
    env: { LLAMA_MEDIA_MARKER: MEDIA_MARKER },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cancelSignal: interruptSignal,
    forceKillAfterDelay: 2000,
  });
  const untrack = trackChild(child.pid);
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail.push(...chunk.split('\n').filter(Boolean));
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  });
  let exited = false;
  const done = child.then(() => {
    exited = true;
    untrack();
  });
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await done;
  };
  let health: Awaited<ReturnType<typeof waitHealthy>>;
  try {
    health = await waitHealthy(url, { timeoutMs: setup.startTimeoutMs ?? 120_000, signal: interruptSignal, gone: () => exited });
  } catch (err) {
    await stop();
    if (interruptSignal.aborted) throw interruption();
    throw err;
  }
  if (health !== 'healthy') {
    await stop();
    return { tail: health === 'timeout' ? 'it did not answer /health in time' : tail.join('\n') };
  }
  return { server: { url, pid: child.pid!, alive: () => !exited, stop } };
}
