import { connectEndpoint } from './endpoint.js';
import { endpointPool } from './endpoint-pool.js';
import type { Runner } from '../runner.js';
import type { Log } from '../../util/log.js';
import { InterruptedError } from '../../errors.js';

/**
 * Windows spread over already-running servers (--endpoint, repeatable); nothing to stop at the
 * end. A server that cannot be reached at the start is left out with a warning, as long as one
 * can be: the run goes on with the others, as it would had that server died mid-run.
 */
export async function endpointRunner(urls: readonly string[], defaultCapacity: number, timeoutMs: number, log: Log): Promise<Runner> {
  const settled = await Promise.allSettled(urls.map((u) => connectEndpoint(u, defaultCapacity, timeoutMs)));
  const endpoints = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const interrupted = failed.find((e) => e instanceof InterruptedError);
  if (interrupted) throw interrupted;
  if (endpoints.length === 0) throw failed[0];
  for (const err of failed) log.warn(`${err instanceof Error ? err.message : String(err)}; going on without it`);
  const pool = endpointPool(endpoints);
  return { kind: 'endpoints', call: pool.call, concurrency: pool.capacity, close: async () => {} };
}
