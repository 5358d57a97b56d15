import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileServer } from './file-server.js';

/**
 * A loopback Hugging Face Hub: the API's tree listing, `/<repo>/resolve/main/<file>` answering
 * LFS files with a 302 to a second server (the CDN, another origin) and the X-Linked-Etag /
 * X-Linked-Size headers the real Hub sends, gated repositories that want a token, 404s. The CDN
 * is a FileServer: Range, If-Range, stalls and cut connections work there as in the other tests.
 */
export interface HubRequest {
  readonly path: string;
  readonly authorization: string | null;
  readonly range: string | null;
  readonly status: number;
}

interface HubRepo {
  /** Path in the repo → bytes. .gguf and .safetensors files are LFS files (redirected); others are served inline. */
  readonly files: Map<string, Buffer>;
  /** sha256 per LFS path, computed when the repo is added: what the Hub publishes. */
  readonly published: Map<string, string>;
  readonly gated: boolean;
}

export const HUB_TOKEN = 'hf_loopback_token';

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');
const isLfs = (p: string) => p.endsWith('.gguf') || p.endsWith('.safetensors');

export class HubServer {
  readonly cdn = new FileServer();
  readonly requests: HubRequest[] = [];
  /** Tree listings are paged this many entries at a time (the real Hub pages long listings). */
  pageSize = 1000;
  private readonly repos = new Map<string, HubRepo>();
  private server = http.createServer((req, res) => this.handle(req, res));
  /** Where the CDN serves files from (another origin than the Hub). */
  cdnBase = '';
  endpoint = '';

  async start(): Promise<string> {
    this.cdnBase = await this.cdn.start();
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    await this.cdn.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.repos.clear();
    this.requests.length = 0;
    this.pageSize = 1000;
    this.cdn.reset();
  }

  /** The CDN's name for a repo file (FileServer keys). */
  cdnKey(repo: string, file: string): string {
    return `${repo}/${file}`;
  }

  addRepo(repo: string, files: Record<string, Buffer>, opts: { gated?: boolean } = {}): void {
    const map = new Map(Object.entries(files));
    const published = new Map<string, string>();
    for (const [p, b] of map) {
      if (!isLfs(p)) continue;
      published.set(p, sha256(b));
      this.cdn.files.set(this.cdnKey(repo, p), b);
      // The CDN's own strong ETag, so If-Range works across the redirect.
      this.cdn.etags.set(this.cdnKey(repo, p), `"cdn-${sha256(b).slice(0, 16)}"`);
    }
    this.repos.set(repo, { files: map, published, gated: opts.gated ?? false });
  }

  /** Requests for one repo file at the Hub (not the CDN). */
  resolveRequests(repo: string, file: string): HubRequest[] {
    return this.requests.filter((r) => r.path === `/${repo}/resolve/main/${encodePath(file)}`);
  }

  private denied(repo: HubRepo, req: http.IncomingMessage): number | null {
    if (!repo.gated) return null;
    const auth = req.headers.authorization;
    if (!auth) return 401;
    return auth === `Bearer ${HUB_TOKEN}` ? null : 403;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    const record = { path: url.pathname, authorization: req.headers.authorization ?? null, range: req.headers.range ?? null, status: 0 };
    this.requests.push(record);
    const send = (status: number, headers: http.OutgoingHttpHeaders, body: string | Buffer = '') => {
      record.status = status;
      res.writeHead(status, headers).end(body);
    };
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    const repoName = tree?.[1] ?? resolve?.[1];
    const repo = repoName ? this.repos.get(decodeURIComponent(repoName)) : undefined;
    if (!repoName) return send(404, { 'content-type': 'text/plain' }, 'not found');
    if (!repo) return send(404, { 'content-type': 'application/json', 'x-error-code': 'RepoNotFound' }, '{"error":"Repository not found"}');
    const denied = this.denied(repo, req);
    if (denied) return send(denied, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo' }, '{"error":"Access to this model is restricted"}');

    if (tree) {
      const entries = [...repo.files].map(([p, b]) => ({
        type: 'file',
        oid: crypto.createHash('sha1').update(b).digest('hex'),
        size: isLfs(p) ? 134 : b.length,
        path: p,
        ...(isLfs(p) ? { lfs: { oid: repo.published.get(p), size: b.length, pointerSize: 134 } } : {}),
      }));
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(start, start + this.pageSize);
      const next = start + this.pageSize < entries.length ? new URL(url) : null;
      next?.searchParams.set('cursor', String(start + this.pageSize));
      return send(200, { 'content-type': 'application/json', ...(next ? { link: `<${next}>; rel="next"` } : {}) }, JSON.stringify(page));
    }

    const file = decodeURIComponent(resolve![2]);
    const bytes = repo.files.get(file);
    if (!bytes) return send(404, { 'content-type': 'application/json', 'x-error-code': 'EntryNotFound' }, '{"error":"Entry not found"}');
    const sha = repo.published.get(file);
    if (!sha) return send(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, bytes);
    // A pre-signed CDN URL: another origin, with a signature in the query as the real one has.
    const location = `${this.cdnBase}${encodePath(this.cdnKey(decodeURIComponent(repoName), file))}?X-Amz-Signature=${sha.slice(0, 12)}`;
    send(302, { location, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(bytes.length), etag: `"${sha}"`, 'content-length': '0' });
  }
}
