import { UserError } from '../errors.js';

/**
 * The Hugging Face Hub as this tool uses it: where files are (`<endpoint>/<repo>/resolve/main/<file>`)
 * and who gets HF_TOKEN. No network here (see hub-tree.ts), so that naming a URL loads no HTTP stack.
 */
export const HF_DEFAULT_ENDPOINT = 'https://huggingface.co';

/** HF_ENDPOINT (a mirror of the Hub), else huggingface.co; no trailing slash. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.HF_ENDPOINT?.trim();
  if (!raw) return HF_DEFAULT_ENDPOINT;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`HF_ENDPOINT '${raw}' is not a valid URL`, { hint: 'set it to a Hub mirror such as https://hf-mirror.com, or unset it' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UserError(`HF_ENDPOINT '${raw}' is not http(s)`, { hint: 'set it to a Hub mirror such as https://hf-mirror.com, or unset it' });
  }
  return raw.replace(/\/+$/, '');
}

/**
 * HF_TOKEN, and the one origin it may be sent to: the Hub endpoint's. A redirect from there to
 * the CDN (pre-signed URLs, another host) goes without it.
 */
export interface HubAuth {
  readonly origin: string;
  readonly authorization: string;
}

export function hubAuth(env: NodeJS.ProcessEnv = process.env): HubAuth | null {
  const token = env.HF_TOKEN?.trim();
  if (!token) return null;
  return { origin: new URL(hubEndpoint(env)).origin, authorization: `Bearer ${token}` };
}

/** The headers for a request to `url`: the token only where `auth` allows it. */
export function authHeaders(url: string, auth: HubAuth | null | undefined): Record<string, string> {
  return auth && new URL(url).origin === auth.origin ? { authorization: auth.authorization } : {};
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function resolveUrl(endpoint: string, repo: string, file: string): string {
  return `${endpoint}/${repo}/resolve/main/${encodePath(file)}`;
}

/** Whether a download URL is on the Hub endpoint (then it publishes a sha256 for LFS files). */
export function isHubUrl(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return new URL(url).origin === new URL(hubEndpoint(env)).origin;
}

/** One file of a repository, with the size and sha256 the Hub publishes for LFS files. */
export interface HubFile {
  /** Path inside the repository. */
  readonly path: string;
  readonly bytes: number | null;
  /** The LFS object id (sha256, lowercase hex); null for files kept in git itself. */
  readonly sha256: string | null;
}

/** What to do about a 401/403 from the Hub. */
export function accessHint(status: number, env: NodeJS.ProcessEnv = process.env): string {
  if (!env.HF_TOKEN?.trim()) return 'the repository is gated or private: set HF_TOKEN to a Hugging Face access token that can read it';
  return status === 401
    ? 'HF_TOKEN was not accepted: check that it is a valid Hugging Face access token'
    : 'HF_TOKEN has no access to it: accept the model\'s conditions on its Hugging Face page, or use a token that can read it';
}

