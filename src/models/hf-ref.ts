import { UsageError } from '../errors.js';

/**
 * `hf:OWNER/REPO[:QUANT]`, llama.cpp's `-hf` convention: a Hugging Face model repository and,
 * optionally, the quantization to take from it.
 */
export interface HfRef {
  /** `OWNER/REPO` as typed (the Hub matches it case-insensitively; the cache does not). */
  readonly repo: string;
  /** Upper case (`Q8_0`, `Q4_K_M`), or null for "the default pick". */
  readonly quant: string | null;
}

export const HF_PREFIX = 'hf:';

// The Hub's own rule for repo ids: letters, digits, '-', '_', '.', no '--' or '..', no edge '-'/'.'.
const PART = /^(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const QUANT = /^[A-Za-z0-9_]{1,24}$/;

export function isHfName(s: string): boolean {
  return s.toLowerCase().startsWith(HF_PREFIX);
}

/** Parses `hf:OWNER/REPO[:QUANT]`; a malformed one is a usage error naming the expected form. */
export function parseHfRef(s: string): HfRef {
  const body = s.slice(HF_PREFIX.length);
  const [repo, quant, ...rest] = body.split(':');
  const [owner, name, ...deeper] = (repo ?? '').split('/');
  const bad = rest.length > 0 || deeper.length > 0 || !PART.test(owner ?? '') || !PART.test(name ?? '') || (quant !== undefined && !QUANT.test(quant));
  if (bad) {
    throw new UsageError(`'${s}' is not a Hugging Face model reference`, 'write hf:OWNER/REPO or hf:OWNER/REPO:QUANT, for example hf:ggml-org/Qwen3-ASR-0.6B-GGUF:Q8_0');
  }
  return { repo: `${owner}/${name}`, quant: quant === undefined ? null : quant.toUpperCase() };
}

/** The name a reference is known by in the cache and in `models list`. */
export function hfName(ref: HfRef): string {
  return `${HF_PREFIX}${ref.repo}${ref.quant ? `:${ref.quant}` : ''}`;
}

/**
 * The cache folder of a reference: `hf--OWNER--REPO[--QUANT]`. Unambiguous because the Hub
 * forbids '--' inside owner and repo names.
 */
export function hfFolder(ref: HfRef): string {
  return ['hf', ...ref.repo.split('/'), ...(ref.quant ? [ref.quant] : [])].join('--');
}
