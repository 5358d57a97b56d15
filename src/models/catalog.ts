import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { QuantizeType } from '../convert/quantize.js';
import { hubEndpoint, resolveUrl } from './hub.js';

/** What a quantized alias may be made as (a subset of llama-quantize's types; not imported, so the catalog loads no process tooling). */
const QUANTIZE_TYPES: readonly QuantizeType[] = ['q4_k_m', 'q5_k_m', 'q8_0'];

/** One file of a downloadable catalog model. */
export interface CatalogFile {
  /** The file's path in the model's Hugging Face repository (also its name in the cache). */
  readonly name: string;
  /** Pinned exact size, when known; else the Hub's published size is what a download must match. */
  readonly bytes: number | null;
  /** Size for display only. */
  readonly approxBytes: number | null;
  /** Pinned sha256 (lowercase hex), when known; else the Hub's published one. */
  readonly sha256: string | null;
}

export type Role = 'text' | 'mmproj';

/** An alias whose two files are downloaded from a Hugging Face repository. */
export interface DownloadAlias {
  readonly kind: 'download';
  readonly alias: string;
  readonly description: string;
  /** `OWNER/REPO` on the Hub. */
  readonly repo: string;
  readonly text: CatalogFile;
  readonly mmproj: CatalogFile;
}

/** An alias made here, once, by requantizing another alias's text file; the mmproj is shared. */
export interface QuantizedAlias {
  readonly kind: 'quantized';
  readonly alias: string;
  readonly description: string;
  /** The download alias whose text file is requantized. */
  readonly from: string;
  readonly type: QuantizeType;
  readonly approxBytes: number | null;
}

/**
 * An alias whose Hugging Face repository holds a checkpoint (safetensors and its json files), not
 * GGUF: downloaded once, converted here by src/convert/, and cached as a GGUF pair. The forced
 * aligner comes this way: nobody publishes it as GGUF (upstream llama.cpp cannot run it).
 */
export interface CheckpointAlias {
  readonly kind: 'checkpoint';
  readonly alias: string;
  readonly description: string;
  readonly repo: string;
  /** The conversion's text type. */
  readonly outtype: 'f16' | 'q8_0';
  readonly approxBytes: number | null;
}

export type CatalogModel = DownloadAlias | QuantizedAlias | CheckpointAlias;

export interface Catalog {
  readonly defaultAlias: string;
  readonly models: readonly CatalogModel[];
}

/** The catalog file is data; anything malformed in it is our bug, caught here rather than mid-download. */
function parseFile(raw: unknown, where: string): CatalogFile {
  const o = (raw ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : null);
  const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : null);
  const name = str('name');
  if (!name || name.startsWith('/') || name.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`catalog: ${where}.name is missing or not a path inside the repository`);
  }
  const sha = str('sha256');
  if (sha !== null && !/^[0-9a-f]{64}$/.test(sha)) throw new Error(`catalog: ${where}.sha256 is not lowercase hex`);
  return { name, bytes: num('bytes'), approxBytes: num('approxBytes'), sha256: sha };
}

function parseModel(m: Record<string, unknown>, i: number): CatalogModel {
  if (typeof m.alias !== 'string' || !isValidName(m.alias) || m.alias !== m.alias.toLowerCase()) {
    throw new Error(`catalog: models[${i}].alias is not a valid lower-case name`);
  }
  const description = typeof m.description === 'string' ? m.description : '';
  if (m.quantize !== undefined) {
    const q = m.quantize as Record<string, unknown>;
    if (typeof q.from !== 'string' || !(QUANTIZE_TYPES as readonly unknown[]).includes(q.type)) {
      throw new Error(`catalog: ${m.alias}.quantize needs from (an alias) and type (${QUANTIZE_TYPES.join(', ')})`);
    }
    const approxBytes = typeof m.approxBytes === 'number' ? m.approxBytes : null;
    return { kind: 'quantized', alias: m.alias, description, from: q.from, type: q.type as QuantizeType, approxBytes };
  }
  if (typeof m.repo !== 'string' || !/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(m.repo)) {
    throw new Error(`catalog: ${m.alias}.repo must be OWNER/REPO`);
  }
  if (m.checkpoint !== undefined) {
    const c = m.checkpoint as Record<string, unknown>;
    if (c.outtype !== 'f16' && c.outtype !== 'q8_0') throw new Error(`catalog: ${m.alias}.checkpoint.outtype must be f16 or q8_0`);
    const approxBytes = typeof m.approxBytes === 'number' ? m.approxBytes : null;
    return { kind: 'checkpoint', alias: m.alias, description, repo: m.repo, outtype: c.outtype, approxBytes };
  }
  return { kind: 'download', alias: m.alias, description, repo: m.repo, text: parseFile(m.text, `${m.alias}.text`), mmproj: parseFile(m.mmproj, `${m.alias}.mmproj`) };
}

export function parseCatalog(raw: unknown): Catalog {
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.models) || typeof o.defaultAlias !== 'string') throw new Error('catalog: models and defaultAlias are required');
  const models = o.models.map((m: Record<string, unknown>, i: number) => parseModel(m, i));
  for (const m of models) {
    if (m.kind === 'quantized' && models.find((x) => x.alias === m.from)?.kind !== 'download') {
      throw new Error(`catalog: ${m.alias} is made from ${m.from}, which is not a download alias`);
    }
  }
  if (!models.some((m) => m.alias === o.defaultAlias)) throw new Error('catalog: defaultAlias is not one of the models');
  return { defaultAlias: o.defaultAlias, models };
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

/**
 * The URL a catalog file is fetched from: `<HF_ENDPOINT or huggingface.co>/<repo>/resolve/main/<file>`,
 * or, with QWEN3ASR_MODEL_BASE_URL, `<that>/<file name>` (a mirror keeps every file side by side).
 */
export function fileUrl(model: DownloadAlias, file: CatalogFile, env: NodeJS.ProcessEnv = process.env): string {
  const mirror = env.QWEN3ASR_MODEL_BASE_URL?.trim();
  if (mirror) return joinUrl(mirror, path.posix.basename(file.name));
  return resolveUrl(hubEndpoint(env), model.repo, file.name);
}

/** The download alias a model's files come from: itself, or the alias a quantized one is made from. */
export function downloadAliasOf(model: DownloadAlias | QuantizedAlias, catalog: Catalog = loadCatalog()): DownloadAlias {
  if (model.kind === 'download') return model;
  const from = findCatalogModel(model.from, catalog);
  if (from?.kind !== 'download') throw new Error(`catalog: ${model.alias} is made from ${model.from}, which is not a download alias`);
  return from;
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
