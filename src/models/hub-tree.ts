import { request } from 'undici';
import { InterruptedError, UserError } from '../errors.js';
import { classify } from './download.js';
import { discard } from './http-range.js';
import { accessHint, authHeaders, hubAuth, hubEndpoint, type HubFile } from './hub.js';
import type { DispatcherPool } from './proxy.js';

/** What a repository holds: `<endpoint>/api/models/<repo>/tree/main`, with each LFS file's size and sha256. */
interface TreeEntry {
  type?: string;
  path?: string;
  size?: number;
  lfs?: { oid?: string; size?: number };
}

function parseTree(raw: unknown): HubFile[] {
  if (!Array.isArray(raw)) throw new Error('the tree listing is not a JSON array');
  return (raw as TreeEntry[])
    .filter((e) => e && e.type === 'file' && typeof e.path === 'string')
    .map((e) => {
      const oid = e.lfs?.oid?.toLowerCase() ?? null;
      return {
        path: e.path!,
        bytes: typeof e.lfs?.size === 'number' ? e.lfs.size : typeof e.size === 'number' ? e.size : null,
        sha256: oid && /^[0-9a-f]{64}$/.test(oid) ? oid : null,
      };
    });
}

/** `Link: <url>; rel="next"`: the Hub pages long listings. */
function nextPage(link: string | string[] | undefined): string | null {
  const v = Array.isArray(link) ? link.join(',') : link;
  const m = v && /<([^>]+)>\s*;\s*rel="?next"?/.exec(v);
  return m ? m[1] : null;
}

export interface ListOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly pool: DispatcherPool;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Every file of `repo` at main (all folders), or one clear line on why not. */
export async function listRepoFiles(repo: string, options: ListOptions): Promise<HubFile[]> {
  const env = options.env ?? process.env;
  const endpoint = hubEndpoint(env);
  const auth = hubAuth(env);
  const files: HubFile[] = [];
  let url: string | null = `${endpoint}/api/models/${repo}/tree/main?recursive=true`;
  for (let page = 0; url && page < 100; page++) {
    let res;
    try {
      res = await request(url, {
        dispatcher: options.pool.for(url),
        signal: options.signal,
        headersTimeout: options.timeoutMs ?? 30_000,
        bodyTimeout: options.timeoutMs ?? 30_000,
        // The Hub answers a renamed repository with a redirect; undici drops the token if it leaves the origin.
        maxRedirections: 3,
        headers: { 'user-agent': 'qwen3asr', accept: 'application/json', ...authHeaders(url, auth) },
      });
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason instanceof InterruptedError ? options.signal.reason : new InterruptedError();
      throw new UserError(`could not list the files of ${repo} from ${endpoint}: ${classify(err).reason}`, { hint: 'check the network or proxy, or set HF_ENDPOINT to a Hub mirror' });
    }
    const { statusCode: status } = res;
    if (status === 401 || status === 403) {
      await discard(res.body);
      throw new UserError(`${repo} on ${endpoint} cannot be read (HTTP ${status}): it was not found, or it is gated or private`, { hint: accessHint(status, env) });
    }
    if (status === 404) {
      await discard(res.body);
      throw new UserError(`the repository ${repo} was not found on ${endpoint}`, { hint: 'check the OWNER/REPO spelling on the Hugging Face page of the model' });
    }
    if (status !== 200) {
      await discard(res.body);
      throw new UserError(`could not list the files of ${repo} from ${endpoint}: HTTP ${status}`, { hint: 'try again later' });
    }
    let body: unknown;
    try {
      body = await res.body.json();
      files.push(...parseTree(body));
    } catch (err) {
      throw new UserError(`could not list the files of ${repo} from ${endpoint}: the answer is not a Hub file listing (${(err as Error).message})`, {
        hint: 'check HF_ENDPOINT: it must point at the Hub or a mirror of its API',
      });
    }
    const next = nextPage(res.headers.link);
    url = next ? new URL(next, url).toString() : null;
  }
  return files;
}
