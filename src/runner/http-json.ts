import { interruptSignal, interruption } from '../util/cleanup.js';
import { ModelCallError } from './decoder.js';

/**
 * Why a request to an endpoint failed. `unreachable`: the server is gone or broken (refused,
 * reset, timed out, 5xx) — other requests should avoid it for a while. `rejected`: it answered
 * this request with an error (4xx) — the endpoint is fine, the request may fare better elsewhere.
 */
export class EndpointError extends ModelCallError {
  constructor(
    readonly endpoint: string,
    readonly kind: 'unreachable' | 'rejected',
    message: string,
  ) {
    super(`${endpoint}: ${message}`);
    this.name = 'EndpointError';
  }
}

/** POST or GET JSON with a time limit; Ctrl-C becomes InterruptedError, other failures EndpointError. */
export async function requestJson(endpoint: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const signal = AbortSignal.any([interruptSignal, AbortSignal.timeout(timeoutMs)]);
  let response: Response;
  try {
    response = await fetch(`${endpoint}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (interruptSignal.aborted) throw interruption();
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = signal.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new EndpointError(endpoint, 'unreachable', why);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    if (interruptSignal.aborted) throw interruption();
    throw new EndpointError(endpoint, 'unreachable', `connection lost while reading the answer (${(err as Error).message})`);
  }
  if (!response.ok) {
    const kind = response.status >= 500 ? 'unreachable' : 'rejected';
    throw new EndpointError(endpoint, kind, `HTTP ${response.status} ${errorMessageOf(text)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EndpointError(endpoint, 'rejected', 'answered with something other than JSON');
  }
}

function errorMessageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string };
    const m = typeof j.error === 'string' ? j.error : j.error?.message;
    if (m) return m;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
