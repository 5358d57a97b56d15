import fs from 'node:fs';
import { UserError } from '../errors.js';

/** One file of a catalog model, as the catalog lists it. */
export interface CatalogFile {
  readonly name: string;
  /**
   * Where the file is published: undefined = the catalog's `baseUrl`; null = nowhere we know of
   * (only a mirror set with QWEN3ASR_MODEL_BASE_URL can provide it).
   */
  readonly base: string | null | undefined;
  /** Exact size, when known; a download of another length is rejected. */
  readonly bytes: number | null;
  /** Size for display only (the published tables round it). */
  readonly approxBytes: number | null;
  /** Lowercase hex, when known. */
  readonly sha256: string | null;
}

export type Role = 'text' | 'mmproj';

export interface CatalogModel {
  readonly alias: string;
  readonly description: string;
  readonly text: CatalogFile;
  readonly mmproj: CatalogFile;
}

export interface Catalog {
  readonly defaultAlias: string;
  readonly baseUrl: string;
  readonly models: readonly CatalogModel[];
}

/** The catalog file is data; anything malformed in it is our bug, caught here rather than mid-download. */
function parseFile(raw: unknown, where: string): CatalogFile {
  const o = raw as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : null);
  const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : null);
  const name = str('name');
  if (!name || name.includes('/')) throw new Error(`catalog: ${where}.name is missing or not a plain file name`);
  const sha = str('sha256');
  if (sha !== null && !/^[0-9a-f]{64}$/.test(sha)) throw new Error(`catalog: ${where}.sha256 is not lowercase hex`);
  const base = o.base === null ? null : (str('base') ?? undefined);
  return { name, base, bytes: num('bytes'), approxBytes: num('approxBytes'), sha256: sha };
}

export function parseCatalog(raw: unknown): Catalog {
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.models) || typeof o.baseUrl !== 'string' || typeof o.defaultAlias !== 'string') {
    throw new Error('catalog: models, baseUrl and defaultAlias are required');
  }
  const models = o.models.map((m: Record<string, unknown>, i: number): CatalogModel => {
    if (typeof m.alias !== 'string' || !isValidName(m.alias)) throw new Error(`catalog: models[${i}].alias is not a valid name`);
    return {
      alias: m.alias,
      description: typeof m.description === 'string' ? m.description : '',
      text: parseFile(m.text, `${m.alias}.text`),
      mmproj: parseFile(m.mmproj, `${m.alias}.mmproj`),
    };
  });
  return { defaultAlias: o.defaultAlias, baseUrl: o.baseUrl, models };
}

let loaded: Catalog | null = null;

/** The catalog shipped with the package (src/models/catalog.json, copied to dist/ by tsc). */
export function loadCatalog(): Catalog {
  loaded ??= parseCatalog(JSON.parse(fs.readFileSync(new URL('./catalog.json', import.meta.url), 'utf8')));
  return loaded;
}

export function findCatalogModel(alias: string, catalog: Catalog = loadCatalog()): CatalogModel | null {
  const key = alias.toLowerCase();
  return catalog.models.find((m) => m.alias === key) ?? null;
}

/**
 * Model names are also folder names in the cache: letters, digits, '.', '_' and '-', not
 * starting with a dot (so no '..', no hidden folders, no path separators).
 */
export function isValidName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name);
}

const HF = 'https://huggingface.co';

/**
 * The URL a catalog file is fetched from, or null when it has no published source.
 * QWEN3ASR_MODEL_BASE_URL: every file is `<that>/<name>` (a mirror keeps them side by side).
 * HF_ENDPOINT: replaces https://huggingface.co at the start of a base.
 */
export function fileUrl(file: CatalogFile, catalog: Catalog, env: NodeJS.ProcessEnv = process.env): string | null {
  const mirror = env.QWEN3ASR_MODEL_BASE_URL?.trim();
  if (mirror) return joinUrl(mirror, file.name);
  const base = file.base === undefined ? catalog.baseUrl : file.base;
  if (base === null) return null;
  const hf = env.HF_ENDPOINT?.trim();
  const effective = hf && (base === HF || base.startsWith(`${HF}/`)) ? hf.replace(/\/+$/, '') + base.slice(HF.length) : base;
  return joinUrl(effective, file.name);
}

function joinUrl(base: string, name: string): string {
  let u: URL;
  try {
    u = new URL(base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new UserError(`the model base URL '${base}' is not a valid URL`, { hint: 'check QWEN3ASR_MODEL_BASE_URL' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UserError(`the model base URL '${base}' is not http(s)`, { hint: 'check QWEN3ASR_MODEL_BASE_URL' });
  }
  return new URL(encodeURIComponent(name), u).toString();
}
