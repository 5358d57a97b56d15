import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/**
 * The byte-level BPE tokenizer of a Qwen3-ASR folder, turned into llama.cpp's vocabulary arrays:
 * one entry per id up to the embedding size, with llama.cpp's token types, the merges, and the
 * special ids generation needs. Read from vocab.json + merges.txt + tokenizer_config.json (what
 * Qwen ships), or from tokenizer.json when that is what the folder has.
 */

/** llama.cpp token types (llama_token_type / gguf TokenType). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
}

export interface SourceTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly merges: readonly string[];
  readonly added: readonly AddedToken[];
  readonly chatTemplate: string | undefined;
  /** Ids named in tokenizer_config.json, when present. */
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
}

export interface GgufVocab {
  readonly tokens: readonly string[];
  readonly tokenTypes: readonly number[];
  readonly merges: readonly string[];
  readonly bosId: number;
  readonly eosId: number;
  readonly eotId: number;
  readonly padId: number;
  readonly chatTemplate: string | undefined;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${path.basename(file)} in ${path.dirname(file)} is not valid JSON`, { cause: err });
  }
}

function parseMergesTxt(text: string): string[] {
  const merges: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#version')) continue;
    const parts = line.split(/\s+/);
    if (parts.length === 2) merges.push(`${parts[0]} ${parts[1]}`);
  }
  return merges;
}

function addedFromConfig(cfg: Record<string, unknown>): AddedToken[] {
  const dec = (cfg.added_tokens_decoder ?? {}) as Record<string, { content?: string; special?: boolean }>;
  return Object.entries(dec)
    .map(([id, t]) => ({ id: Number(id), content: String(t.content), special: t.special === true }))
    .sort((a, b) => a.id - b.id);
}

const tokenString = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;

export function readSourceTokenizer(dir: string): SourceTokenizer {
  const at = (f: string) => path.join(dir, f);
  const cfg = fs.existsSync(at('tokenizer_config.json')) ? readJson(at('tokenizer_config.json')) : {};
  const chatTemplate =
    typeof cfg.chat_template === 'string'
      ? cfg.chat_template
      : fs.existsSync(at('chat_template.json'))
        ? (readJson(at('chat_template.json')).chat_template as string | undefined)
        : fs.existsSync(at('chat_template.jinja'))
          ? fs.readFileSync(at('chat_template.jinja'), 'utf8')
          : undefined;
  const common = { chatTemplate, eosToken: tokenString(cfg.eos_token), padToken: tokenString(cfg.pad_token) };

  if (fs.existsSync(at('vocab.json')) && fs.existsSync(at('merges.txt'))) {
    const vocab = new Map(Object.entries(readJson(at('vocab.json'))).map(([k, v]) => [k, Number(v)]));
    return { vocab, merges: parseMergesTxt(fs.readFileSync(at('merges.txt'), 'utf8')), added: addedFromConfig(cfg), ...common };
  }
  if (fs.existsSync(at('tokenizer.json'))) {
    const tj = readJson(at('tokenizer.json'));
    const model = (tj.model ?? {}) as { type?: string; vocab?: Record<string, number>; merges?: unknown[] };
    if (model.type !== 'BPE' || !model.vocab) throw new UserError(`tokenizer.json in ${dir} is not a BPE tokenizer`);
    // Newer tokenizers store merges as pairs; spaces inside a pair cannot occur in byte-level BPE.
    const merges = (model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
    const fromJson = ((tj.added_tokens ?? []) as { id: number; content: string; special?: boolean }[]).map((t) => ({
      id: t.id,
      content: t.content,
      special: t.special === true,
    }));
    const added = fromJson.length ? fromJson.sort((a, b) => a.id - b.id) : addedFromConfig(cfg);
    return { vocab: new Map(Object.entries(model.vocab)), merges, added, ...common };
  }
  throw new UserError(`no tokenizer in ${dir}: expected vocab.json + merges.txt, or tokenizer.json`, {
    hint: 'download the whole model folder from Hugging Face',
  });
}

/** llama.cpp's converter marks `<|…|>` tokens as control even when the tokenizer calls them non-special. */
const looksSpecial = (s: string) => s.startsWith('<|') && s.endsWith('|>');

export function buildGgufVocab(src: SourceTokenizer, vocabSize: number): GgufVocab {
  const byId = new Map<number, { text: string; type: number }>();
  for (const [text, id] of src.vocab) byId.set(id, { text, type: TOKEN_TYPE.normal });
  for (const t of src.added) {
    byId.set(t.id, { text: t.content, type: t.special || looksSpecial(t.content) ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined });
  }
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  if (maxId >= vocabSize) {
    throw new UserError(`tokenizer has id ${maxId} but the model's vocab_size is ${vocabSize}`, { hint: 'the tokenizer files do not belong to this model' });
  }
  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  for (let i = 0; i < vocabSize; i++) {
    const t = byId.get(i);
    tokens.push(t ? t.text : `[PAD${i}]`);
    tokenTypes.push(t ? t.type : TOKEN_TYPE.unused);
  }
  const idOf = (text: string | undefined, what: string): number => {
    const id = text === undefined ? undefined : (src.added.find((t) => t.content === text)?.id ?? src.vocab.get(text));
    if (id === undefined) throw new UserError(`tokenizer has no ${what} token ${text ?? ''}`.trim(), { hint: 'the tokenizer files look incomplete' });
    return id;
  };
  // Qwen3-ASR ends a turn with <|im_end|> and pads with <|endoftext|>; both stop generation
  // (llama.cpp adds every <|im_end|>/<|endoftext|> to its end-of-generation set by name).
  const eosId = idOf(src.eosToken ?? '<|im_end|>', 'end-of-turn');
  const padId = idOf(src.padToken ?? '<|endoftext|>', 'padding');
  return {
    tokens,
    tokenTypes,
    merges: src.merges,
    bosId: padId,
    eosId,
    eotId: eosId,
    padId,
    chatTemplate: src.chatTemplate,
  };
}
