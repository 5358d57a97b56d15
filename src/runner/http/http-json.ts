import http from 'node:http';
import https from 'node:https';
import { interruptSignal, interruption } from '../../util/cleanup.js';
import { ModelCallError } from '../request/decoder.js';

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
  let answer: { status: number; text: string };
  try {
    answer = await httpText(`${endpoint}${path}`, body === undefined ? undefined : JSON.stringify(body), signal);
  } catch (err) {
    if (interruptSignal.aborted) throw interruption();
    const e = err as { code?: string; message?: string; phase?: string };
    if (signal.aborted) throw new EndpointError(endpoint, 'unreachable', `no answer within ${Math.round(timeoutMs / 1000)} s`);
    if (e.phase === 'body') throw new EndpointError(endpoint, 'unreachable', `connection lost while reading the answer (${e.message})`);
    throw new EndpointError(endpoint, 'unreachable', e.code ?? e.message ?? String(err));
  }
  if (answer.status < 200 || answer.status >= 300) {
    const kind = answer.status >= 500 ? 'unreachable' : 'rejected';
    throw new EndpointError(endpoint, kind, `HTTP ${answer.status} ${errorMessageOf(answer.text)}`);
  }
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new EndpointError(endpoint, 'rejected', 'answered with something other than JSON');
  }
}

/**
 * One HTTP request, its answer as text. node:http rather than fetch: fetch refuses the ports the
 * WHATWG "bad ports" list names (6000, 6665–6669, 10080, …), and a server may listen on any of
 * them; and an abort (Ctrl-C, SIGTERM, the time limit) destroys the socket at once.
 */
function httpText(url: string, body: string | undefined, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = (u.protocol === 'https:' ? https : http).request(u, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      signal,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', (err) => reject(Object.assign(err, { phase: 'body' })));
      response.on('aborted', () => reject(Object.assign(new Error('the server closed the connection'), { phase: 'body' })));
      response.on('end', () => {
        if (!response.complete) return reject(Object.assign(new Error('the answer was cut short'), { phase: 'body' }));
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.end(body);
  });
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
