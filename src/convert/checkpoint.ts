import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { readSafetensorsHeader, type TensorEntry } from './safetensors.js';

/**
 * A Hugging Face checkpoint's tensors, from `model.safetensors` or from the shards named by
 * `model.safetensors.index.json` (its weight_map is followed as written; no split is assumed).
 */
export interface Checkpoint {
  readonly files: readonly string[];
  readonly tensors: ReadonlyMap<string, TensorEntry>;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const single = path.join(dir, SINGLE_FILE);
  const index = path.join(dir, INDEX_FILE);
  if (fs.existsSync(index)) return openSharded(dir, index);
  if (fs.existsSync(single)) {
    const entries = await readSafetensorsHeader(single);
    return { files: [single], tensors: new Map(entries.map((e) => [e.name, e])) };
  }
  throw new UserError(`no weights in ${dir}: expected ${SINGLE_FILE} or ${INDEX_FILE}`, {
    hint: 'download the whole model folder from Hugging Face',
  });
}

async function openSharded(dir: string, index: string): Promise<Checkpoint> {
  let weightMap: Record<string, string>;
  try {
    const parsed = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> };
    if (!parsed.weight_map || typeof parsed.weight_map !== 'object') throw new Error('no weight_map');
    weightMap = parsed.weight_map;
  } catch (err) {
    throw new UserError(`${INDEX_FILE} in ${dir} is not a valid index (${(err as Error).message})`, { cause: err });
  }
  const shardNames = [...new Set(Object.values(weightMap))].sort();
  const tensors = new Map<string, TensorEntry>();
  const files: string[] = [];
  for (const shard of shardNames) {
    const file = path.join(dir, shard);
    if (!fs.existsSync(file)) {
      throw new UserError(`missing shard ${shard} named by ${INDEX_FILE} in ${dir}`, { hint: 'download the whole model folder' });
    }
    files.push(file);
    for (const e of await readSafetensorsHeader(file)) {
      // The index decides which shard holds a tensor; ignore strays it does not name.
      if (weightMap[e.name] === shard) tensors.set(e.name, e);
    }
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    if (!tensors.has(name)) throw new UserError(`${shard} does not contain ${name}, which ${INDEX_FILE} places there`);
  }
  return { files, tensors };
}
