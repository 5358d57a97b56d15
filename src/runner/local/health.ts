import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `GET {base}/health` until llama-server answers 200 (the model is loaded; it answers 503
 * while loading). Gives up when `gone()` says the process has ended, or after `timeoutMs`.
 * Every 50 ms, steadily: a loopback GET costs about a millisecond, and every run waits here for
 * its model, so a back-off would add its last step (up to 0.5 s) to each run's start.
 */
const POLL_MS = 50;

export async function waitHealthy(
  base: string,
  options: { readonly timeoutMs: number; readonly signal: AbortSignal; readonly gone: () => boolean },
): Promise<'healthy' | 'exited' | 'timeout'> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    options.signal.throwIfAborted();
    if (options.gone()) return 'exited';
    if (await isHealthy(base, options.signal)) return 'healthy';
    await sleep(POLL_MS, undefined, { signal: options.signal }).catch(() => {});
  }
  return 'timeout';
}

export async function isHealthy(base: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const r = await fetch(`${base}/health`, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(2000)]) : AbortSignal.timeout(2000) });
    await r.body?.cancel();
    return r.status === 200;
  } catch {
    return false;
  }
}
