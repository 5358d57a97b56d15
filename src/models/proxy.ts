import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/**
 * Connection pools for every host a download touches (the Hub, then the CDN it redirects to),
 * each reached directly or through its proxy as HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case)
 * decide for that host, the way curl does. Node's own fetch ignores them; undici's
 * EnvHttpProxyAgent does this too but is flagged experimental and prints a warning on every run.
 */
export class DispatcherPool {
  private readonly byRoute = new Map<string, Dispatcher>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  for(url: string): Dispatcher {
    const route = proxyFor(url, this.env) ?? 'direct';
    let d = this.byRoute.get(route);
    if (!d) {
      d = route === 'direct' ? new Agent() : new ProxyAgent(route);
      this.byRoute.set(route, d);
    }
    return d;
  }

  /** destroy, not close: nothing is left to finish, and close would wait on a stuck socket. */
  async destroy(): Promise<void> {
    await Promise.all([...this.byRoute.values()].map((d) => d.destroy().catch(() => {})));
    this.byRoute.clear();
  }
}

function envVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
}

/** The proxy URL to reach `url` through, or null for a direct connection. */
export function proxyFor(url: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const u = new URL(url);
  const proxy = u.protocol === 'https:' ? envVar(env, 'https_proxy') : envVar(env, 'http_proxy');
  if (!proxy) return null;
  return bypassesProxy(u, envVar(env, 'no_proxy') ?? '') ? null : proxy;
}

/** NO_PROXY: `*`, or host names / domain suffixes (`.example.com`, `example.com`), optionally `:port`. */
export function bypassesProxy(u: URL, noProxy: string): boolean {
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''));
    const name = (m?.[1] ?? entry).replace(/^\*?\./, '');
    if (m?.[2] && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}
