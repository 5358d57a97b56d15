import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** How the server treats one file's requests, in order; the last behaviour repeats. */
export type Behaviour =
  | { readonly kind: 'normal' }
  /** Answers with this HTTP status and no file. */
  | { readonly kind: 'status'; readonly code: number }
  /** Ignores Range: always answers 200 with the whole file. */
  | { readonly kind: 'ignore-range' }
  /** Waits before answering (to make two clients overlap). */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Sends `bytes`, then stalls without closing: the test then cuts (dropConnections) or interrupts. */
  | { readonly kind: 'stall'; readonly bytes: number };

export interface RequestRecord {
  readonly path: string;
  readonly range: string | null;
  readonly ifRange: string | null;
  /** What came in the Authorization header (a CDN must never see the Hub token). */
  readonly authorization: string | null;
  status: number;
  bytesSent: number;
}

/** A loopback HTTP server for test files, counting every request and byte it serves. */
export class FileServer {
  readonly files = new Map<string, Buffer>();
  /** Strong ETags by file name: sent, and honoured in If-Range. */
  readonly etags = new Map<string, string>();
  readonly behaviours = new Map<string, Behaviour[]>();
  readonly requests: RequestRecord[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private sockets = new Set<import('node:net').Socket>();

  async start(): Promise<string> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/models/`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Cuts every open connection (the way a flaky network does). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  requestsFor(name: string): RequestRecord[] {
    return this.requests.filter((r) => r.path === `/models/${name}`);
  }

  reset(): void {
    this.files.clear();
    this.etags.clear();
    this.behaviours.clear();
    this.requests.length = 0;
  }

  private behaviour(name: string): Behaviour {
    const list = this.behaviours.get(name);
    if (!list || list.length === 0) return { kind: 'normal' };
    return list.length > 1 ? list.shift()! : list[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const name = decodeURIComponent(url.pathname.replace(/^\/models\//, ''));
    const range = req.headers.range ?? null;
    const file = this.files.get(name);
    const ifRange = (req.headers['if-range'] as string | undefined) ?? null;
    const record: RequestRecord = { path: url.pathname, range, ifRange, authorization: req.headers.authorization ?? null, status: 0, bytesSent: 0 };
    this.requests.push(record);
    if (!file) {
      record.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    const b = this.behaviour(name);
    if (b.kind === 'status') {
      record.status = b.code;
      res.writeHead(b.code).end('try later');
      return;
    }
    if (b.kind === 'slow') await new Promise((r) => setTimeout(r, b.delayMs));
    const etag = this.etags.get(name);
    // If-Range naming another version: the range no longer applies, send the whole new file.
    const rangeValid = ifRange === null || ifRange === etag;
    const m = range && rangeValid && b.kind !== 'ignore-range' ? /^bytes=(\d+)-$/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    if (m && start >= file.length) {
      record.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
      return;
    }
    const body = file.subarray(start);
    record.status = m ? 206 : 200;
    res.writeHead(record.status, {
      'content-length': String(body.length),
      'content-type': 'application/octet-stream',
      ...(etag ? { etag } : {}),
      ...(m ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
    });
    if (b.kind === 'stall') {
      const part = body.subarray(0, b.bytes);
      record.bytesSent = part.length;
      res.write(part);
      return;
    }
    record.bytesSent = body.length;
    res.end(body);
  }
}

/** A loopback URL nothing listens on: a port just released. */
export async function refusedBaseUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/models/`;
}

/** A CONNECT-tunnelling proxy on loopback that records which host:port each tunnel went to. */
export async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; stop: () => Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const [host, port] = target.split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    tunnels,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
