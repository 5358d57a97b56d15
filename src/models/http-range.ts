import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { authHeaders, type HubAuth } from './hub.js';
import type { DispatcherPool } from './proxy.js';
import type { ExpectedFile } from './verify.js';

/** What one GET (with `Range: bytes=<offset>-` when resuming) can lead to. */
export type RangeOutcome =
  /** Bytes to write from `start`: 0 for a full response (200, server ignored the range), offset for a 206. */
  | { readonly kind: 'body'; readonly start: number; readonly total: number | null; readonly validator: string | null; readonly body: Readable }
  /** 416 with the file's total equal to what we have (or the Hub's published size is that): the .part is already whole. */
  | { readonly kind: 'already-complete'; readonly total: number }
  /** 416 that does not confirm our size: the .part does not belong to this file; start over. */
  | { readonly kind: 'range-rejected' }
  | { readonly kind: 'http-error'; readonly status: number; readonly statusText: string; readonly url: string };

export type RangeResponse = RangeOutcome & {
  /**
   * What the Hugging Face Hub publishes for an LFS file in its first, pre-redirect answer
   * (X-Linked-Size, X-Linked-Etag = the sha256); null when no response carried them.
   */
  readonly published: ExpectedFile | null;
};

export interface RangeRequestOptions {
  readonly pool: DispatcherPool;
  readonly signal?: AbortSignal;
  /** Time allowed for the response headers and between body chunks. */
  readonly timeoutMs: number;
  /**
   * The validator (strong ETag or Last-Modified) of the response the .part began with: sent as
   * If-Range, so a file changed on the server since comes back whole (200) instead of spliced.
   */
  readonly ifRange?: string | null;
  /** HF_TOKEN and the one origin it goes to. */
  readonly auth?: HubAuth | null;
}

const MAX_REDIRECTS = 5;

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

/** X-Linked-Etag is the LFS object's sha256, quoted (sometimes weak-tagged). */
function publishedOf(headers: Record<string, string | string[] | undefined>): ExpectedFile | null {
  const etag = header(headers, 'x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() ?? null;
  const size = header(headers, 'x-linked-size');
  const sha256 = etag && /^[0-9a-f]{64}$/.test(etag) ? etag : null;
  const bytes = size !== null && /^\d+$/.test(size.trim()) ? Number(size) : null;
  return sha256 === null && bytes === null ? null : { sha256, bytes };
}

/**
 * GET `url` from `offset`, following redirects ourselves rather than letting undici do it: the
 * Hub's first answer carries the published size and sha256, each hop is routed through the proxy
 * NO_PROXY picks for its host, and HF_TOKEN is sent only to the Hub's origin, never to the CDN.
 * Range and If-Range go with every hop, so a resume works across the redirect.
 */
export async function requestFrom(url: string, offset: number, options: RangeRequestOptions): Promise<RangeResponse> {
  let published: ExpectedFile | null = null;
  let hop = url;
  for (let redirects = 0; ; redirects++) {
    const res = await request(hop, {
      method: 'GET',
      dispatcher: options.pool.for(hop),
      signal: options.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      headers: {
        'user-agent': 'qwen3asr',
        // A compressed body would make byte offsets meaningless for resuming.
        'accept-encoding': 'identity',
        ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
        ...(offset > 0 && options.ifRange ? { 'if-range': options.ifRange } : {}),
        ...authHeaders(hop, options.auth),
      },
    });
    const { statusCode: status, headers } = res;
    published ??= publishedOf(headers);
    const location = header(headers, 'location');
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      await discard(res.body);
      // The Hub says how long the file is: a .part of exactly that length needs no transfer.
      if (offset > 0 && published?.bytes === offset) return { kind: 'already-complete', total: offset, published };
      if (redirects >= MAX_REDIRECTS) return { kind: 'http-error', status, statusText: 'too many redirects', url: hop, published };
      hop = new URL(location, hop).toString();
      continue;
    }
    return { ...(await interpret(res, offset, hop)), published };
  }
}

async function interpret(res: Dispatcher.ResponseData, offset: number, url: string): Promise<RangeOutcome> {
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
  return { kind: 'http-error', status, statusText: REASONS[status] ?? '', url };
}
