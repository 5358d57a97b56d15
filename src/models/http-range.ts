import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';

/** What one GET (with `Range: bytes=<offset>-` when resuming) can lead to. */
export type RangeResponse =
  /** Bytes to write from `start`: 0 for a full response (200, server ignored the range), offset for a 206. */
  | { readonly kind: 'body'; readonly start: number; readonly total: number | null; readonly validator: string | null; readonly body: Readable }
  /** 416 with the file's total equal to what we have: the .part is already whole. */
  | { readonly kind: 'already-complete'; readonly total: number }
  /** 416 that does not confirm our size: the .part does not belong to this file; start over. */
  | { readonly kind: 'range-rejected' }
  | { readonly kind: 'http-error'; readonly status: number; readonly statusText: string };

export interface RangeRequestOptions {
  readonly dispatcher: Dispatcher;
  readonly signal?: AbortSignal;
  /** Time allowed for the response headers and between body chunks. */
  readonly timeoutMs: number;
  /**
   * The validator (strong ETag or Last-Modified) of the response the .part began with: sent as
   * If-Range, so a file changed on the server since comes back whole (200) instead of spliced.
   */
  readonly ifRange?: string | null;
}

/** What identifies this version of the file: a strong ETag, else Last-Modified. */
function validatorOf(headers: Record<string, string | string[] | undefined>): string | null {
  const etag = header(headers, 'etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return header(headers, 'last-modified');
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 410: 'Gone',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

// "bytes 100-999/1000" gives start 100, total 1000; "bytes (star)/1000" (a 416) gives start null, total 1000.
export function parseContentRange(v: string | null): { start: number | null; total: number | null } | null {
  const m = v && /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)\s*$/i.exec(v);
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

/** Reads and drops a body we do not want (an error page), so the connection is left clean. */
export async function discard(body: Readable & { dump?: () => Promise<void> }): Promise<void> {
  try {
    await (body.dump ? body.dump() : body.destroy());
  } catch {
    // the body was only ever going to be thrown away
  }
}

export async function requestFrom(url: string, offset: number, options: RangeRequestOptions): Promise<RangeResponse> {
  const res = await request(url, {
    method: 'GET',
    dispatcher: options.dispatcher,
    signal: options.signal,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    maxRedirections: 5,
    headers: {
      'user-agent': 'qwen3asr',
      // A compressed body would make byte offsets meaningless for resuming.
      'accept-encoding': 'identity',
      ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
      ...(offset > 0 && options.ifRange ? { 'if-range': options.ifRange } : {}),
    },
  });
  const { statusCode: status, headers } = res;
  const length = header(headers, 'content-length');
  if (status === 200) {
    return { kind: 'body', start: 0, total: length === null ? null : Number(length), validator: validatorOf(headers), body: res.body };
  }
  if (status === 206) {
    const range = parseContentRange(header(headers, 'content-range'));
    if (offset > 0 && range?.start === offset) {
      const total = range.total ?? (length === null ? null : offset + Number(length));
      return { kind: 'body', start: offset, total, validator: validatorOf(headers), body: res.body };
    }
    // A range we did not ask for: drop it and fetch the whole file.
    await discard(res.body);
    return { kind: 'range-rejected' };
  }
  await discard(res.body);
  if (status === 416) {
    const total = parseContentRange(header(headers, 'content-range'))?.total ?? null;
    return total !== null && total === offset ? { kind: 'already-complete', total } : { kind: 'range-rejected' };
  }
  return { kind: 'http-error', status, statusText: REASONS[status] ?? '' };
}
