import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/**
 * The connection pool for a URL, honouring HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) the
 * way curl does. Node's own fetch ignores them; undici's EnvHttpProxyAgent does this too but is
 * flagged experimental and prints a warning on every run.
 */
export function dispatcherFor(url: string, env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const proxy = proxyFor(url, env);
  return proxy ? new ProxyAgent(proxy) : new Agent();
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
