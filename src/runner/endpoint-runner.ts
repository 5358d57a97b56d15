import { connectEndpoint } from './endpoint.js';
import { endpointPool } from './endpoint-pool.js';
import type { Runner } from './runner.js';

/** Windows spread over already-running servers (--endpoint, repeatable); nothing to stop at the end. */
export async function endpointRunner(urls: readonly string[], defaultCapacity: number, timeoutMs: number): Promise<Runner> {
  const endpoints = await Promise.all(urls.map((u) => connectEndpoint(u, defaultCapacity, timeoutMs)));
  const pool = endpointPool(endpoints);
  return { kind: 'endpoints', call: pool.call, concurrency: pool.capacity, close: async () => {} };
}
