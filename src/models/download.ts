import fs from 'node:fs';
import path from 'node:path';
import { InterruptedError } from '../errors.js';
import { NO_DOWNLOAD_PROGRESS, formatBytes, type DownloadProgress } from './download-progress.js';
import { discard, requestFrom } from './http-range.js';
import type { HubAuth } from './hub.js';
import { DispatcherPool } from './proxy.js';
import type { ExpectedFile } from './verify.js';

/**
 * Fetches one URL into a `.part` file, resuming from whatever the file already holds. The
 * `.part` is never renamed here: the caller verifies it first. It is kept on every failure
 * and on Ctrl-C, so that the next run carries on where this one stopped.
 */
export interface DownloadRequest {
  readonly url: string;
  readonly partPath: string;
  /** Exact size when known: a .part of that size is taken as fetched without asking the server. */
  readonly expectedBytes: number | null;
}

export interface DownloadOptions {
  readonly signal?: AbortSignal;
  readonly progress?: DownloadProgress;
  /** Shared proxy-aware connection pools; made (and closed) per call otherwise. */
  readonly pool?: DispatcherPool;
  /** HF_TOKEN and the one origin it goes to (never the CDN a redirect points at). */
  readonly auth?: HubAuth | null;
  /** Tries after the first failure of a transient kind (reset, timeout, 5xx). */
  readonly retries?: number;
  /** First backoff; doubled after each failure. */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

/** Why a download failed, in words for the user's one line. `transient` ones are retried. */
export class DownloadFailure extends Error {
  constructor(
    readonly reason: string,
    readonly transient: boolean,
    /** What to do, when it is not "get the files some other way". */
    readonly hint?: string,
    /** The HTTP status and the URL that answered it, for an HTTP error. */
    readonly http?: { readonly status: number; readonly url: string },
  ) {
    super(reason);
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENETRESET',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
const PERMANENT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  // What an offline machine usually gets from DNS: retrying only delays the message.
  EAI_AGAIN: 'host not found (no network?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate cannot be verified',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
};

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string') codes.push(e.code);
    // AggregateError from happy-eyeballs connects (IPv4 + IPv6 both refused).
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner)) for (const x of inner) codes.push(...errorCodes(x));
  }
  return codes;
}

/** Turns a network error into a DownloadFailure: a short reason and whether to try again. */
export function classify(err: unknown): DownloadFailure {
  if (err instanceof DownloadFailure) return err;
  const codes = errorCodes(err);
  for (const c of codes) if (PERMANENT_REASONS[c]) return new DownloadFailure(PERMANENT_REASONS[c], false);
  for (const c of codes) {
    if (TRANSIENT_CODES.has(c)) {
      const reason = /TIMEOUT|ETIMEDOUT/.test(c) ? 'timed out' : 'connection lost';
      return new DownloadFailure(reason, true);
    }
  }
  const message = (err as Error)?.message ?? String(err);
  if (/terminated|other side closed|socket/i.test(message)) return new DownloadFailure('connection lost', true);
  return new DownloadFailure(message, false);
}

/** Beside the .part: the validator of the response it started with (see If-Range). */
export function validatorPath(partPath: string): string {
  return `${partPath}.ifrange`;
}

function readValidator(partPath: string): string | null {
  try {
    return fs.readFileSync(validatorPath(partPath), 'utf8') || null;
  } catch {
    return null;
  }
}

/** Fails before the transfer, not at the disk's last byte, when the file cannot fit. */
function ensureSpace(partPath: string, bytes: number): void {
  const dir = path.dirname(partPath);
  let free: number;
  try {
    const st = fs.statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    return; // no statfs here: find out the hard way
  }
  if (bytes > free) {
    throw new DownloadFailure(
      `not enough disk space: ${formatBytes(bytes)} more needed, ${formatBytes(free)} free in ${dir}`,
      false,
      'free some space, or point QWEN3ASR_HOME at a larger disk; the download resumes where it stopped',
    );
  }
}

function partSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

function interrupted(signal: AbortSignal | undefined): InterruptedError {
  return signal?.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(interrupted(signal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One attempt: request from the current .part size and append what arrives. Returns what the
 * server published about the file (the Hub's size and sha256), when it did.
 */
async function attempt(req: DownloadRequest, pool: DispatcherPool, options: DownloadOptions, progress: DownloadProgress): Promise<ExpectedFile | null> {
  let offset = partSize(req.partPath);
  if (req.expectedBytes !== null && offset > req.expectedBytes) {
    fs.rmSync(req.partPath, { force: true });
    offset = 0;
  }
  if (req.expectedBytes !== null && offset === req.expectedBytes) return null;

  const res = await requestFrom(req.url, offset, {
    pool,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 30_000,
    ifRange: readValidator(req.partPath),
    auth: options.auth,
  });
  const expectedBytes = req.expectedBytes ?? res.published?.bytes ?? null;
  switch (res.kind) {
    case 'already-complete':
      return res.published;
    case 'range-rejected':
      // Our .part is not a prefix of what the server has: start again from nothing.
      fs.rmSync(req.partPath, { force: true });
      fs.rmSync(validatorPath(req.partPath), { force: true });
      throw new DownloadFailure('the server rejected the resume range', true);
    case 'http-error':
      throw new DownloadFailure(
        `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
        // A CDN refusing a redirect's pre-signed URL (expired meanwhile): the next try gets a fresh one.
        res.status >= 500 || res.status === 408 || res.status === 429 || (res.status === 403 && res.url !== req.url),
        undefined,
        { status: res.status, url: res.url },
      );
    case 'body': {
      if (expectedBytes !== null && res.total !== null && res.total !== expectedBytes) {
        await discard(res.body);
        throw new DownloadFailure(`the server's file is ${res.total} bytes, not the ${expectedBytes} expected`, false);
      }
      if (res.start === 0) {
        if (res.validator) fs.writeFileSync(validatorPath(req.partPath), res.validator);
        else fs.rmSync(validatorPath(req.partPath), { force: true });
      }
      if (res.total !== null) ensureSpace(req.partPath, res.total - res.start);
      progress.begin(res.start, res.total);
      // Each chunk is awaited onto disk before the next is read: whatever arrived before a cut
      // or a Ctrl-C is in the .part, so the resume offset is exact.
      const fh = await fs.promises.open(req.partPath, res.start === 0 ? 'w' : 'a');
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          await fh.write(chunk);
          progress.add(chunk.length);
        }
      } finally {
        await fh.close();
      }
      const size = partSize(req.partPath);
      if (res.total !== null && size < res.total) throw new DownloadFailure('connection lost', true);
      return res.published;
    }
  }
}

/**
 * Downloads `req.url` into `req.partPath` (resuming), retrying transient failures with backoff.
 * Resolves to the size and sha256 the server published for the file (null when it published none).
 */
export async function downloadToPart(req: DownloadRequest, options: DownloadOptions = {}): Promise<ExpectedFile | null> {
  const pool = options.pool ?? new DispatcherPool();
  const progress = options.progress ?? NO_DOWNLOAD_PROGRESS;
  const retries = options.retries ?? 4;
  let failures = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw interrupted(options.signal);
      const before = partSize(req.partPath);
      try {
        return await attempt(req, pool, options, progress);
      } catch (err) {
        if (options.signal?.aborted) throw interrupted(options.signal);
        const failure = classify(err);
        if (!failure.transient) throw failure;
        // A long download may see several resets: only failures that got nothing further count.
        failures = partSize(req.partPath) > before ? 1 : failures + 1;
        if (failures > retries) throw new DownloadFailure(`${failure.reason} (gave up after ${retries + 1} tries)`, true);
        await sleep((options.backoffMs ?? 1000) * 2 ** (failures - 1), options.signal);
      }
    }
  } finally {
    progress.stop();
    if (!options.pool) await pool.destroy();
  }
}
