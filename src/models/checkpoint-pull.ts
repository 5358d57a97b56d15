/**
 * A checkpoint alias (catalog.ts): the repository's checkpoint files downloaded into a folder of
 * their own in the cache (resumable `.part`s, kept across interruptions, each checked against the
 * size and sha256 the Hub lists), converted once into a GGUF pair cached under the alias, then deleted: the pair is what
 * every later run loads, and the checkpoint would double the disk it takes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { CheckpointAlias } from './catalog.js';
import { modelsRoot, readCached } from './cache.js';
import { hubEndpoint, resolveUrl } from './hub.js';
import { listRepoFiles } from './hub-tree.js';
import { DispatcherPool } from './proxy.js';
import { placeInCache } from './import.js';
import { checkFile } from './verify.js';
import { validatorPath } from './download.js';
import { fetchOne, removePart, type PlannedFile, type PullOptions, type PullResult } from './pull.js';

/** What the converter reads: the configs, the tokenizer, the weights. */
const CHECKPOINT_FILE = /^[^/]+\.(json|txt|safetensors)$/;

export async function pullCheckpoint(entry: CheckpointAlias, options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const cached = readCached(entry.alias, env);
  if (cached) return { model: cached, downloaded: false };
  // Named as the repo, so the converted files are too (Qwen3-ForcedAligner-0.6B-text-f16.gguf).
  const holder = path.join(modelsRoot(env), '.checkpoints', entry.alias);
  const dir = path.join(holder, path.posix.basename(entry.repo));
  const model = await placeInCache(
    entry.alias,
    { kind: 'convert', checkpoint: `${hubEndpoint(env)}/${entry.repo}`, outtype: entry.outtype },
    { log: options.log, env, signal: options.signal, ifCached: 'reuse' },
    async (staging) => {
      await downloadCheckpoint(entry, dir, options);
      options.log.info(`converting ${entry.repo} to GGUF (${entry.outtype}); this happens once`);
      const { convertCheckpoint } = await import('../convert/convert-checkpoint.js');
      const out = await convertCheckpoint({ modelDir: dir, outDir: staging, outType: entry.outtype, mmprojFormat: 'qwen3asr', signal: options.signal });
      return { text: out.text, mmproj: out.mmproj };
    },
  );
  fs.rmSync(holder, { recursive: true, force: true });
  options.log.info(`${entry.alias} is ready in ${model.dir}`);
  return { model, downloaded: true };
}

async function downloadCheckpoint(entry: CheckpointAlias, dir: string, options: PullOptions): Promise<void> {
  const env = options.env ?? process.env;
  const pool = new DispatcherPool(env);
  try {
    const listing = await listRepoFiles(entry.repo, { env, pool, signal: options.signal, timeoutMs: options.timeoutMs });
    const wanted = listing.filter((f) => CHECKPOINT_FILE.test(f.path));
    if (!wanted.some((f) => f.path === 'config.json') || !wanted.some((f) => f.path.endsWith('.safetensors'))) {
      throw new UserError(`${entry.repo} holds no safetensors checkpoint (config.json and *.safetensors)`, {
        hint: 'download it yourself and give the folder to --aligner',
      });
    }
    fs.mkdirSync(dir, { recursive: true });
    const endpoint = hubEndpoint(env);
    for (const f of wanted) {
      const finalPath = path.join(dir, f.path);
      if (fs.existsSync(finalPath)) continue; // verified by an earlier, interrupted pull
      const planned: PlannedFile = {
        name: f.path,
        url: resolveUrl(endpoint, entry.repo, f.path),
        expected: { bytes: f.bytes, sha256: f.sha256 },
        approxBytes: f.bytes,
        finalPath,
        partPath: `${finalPath}.part`,
      };
      const expected = await fetchOne(planned, entry.alias, options, env, pool);
      const check = await checkFile(planned.partPath, expected, options.signal);
      if (!check.ok) {
        removePart(planned);
        throw new UserError(`${f.path} from ${planned.url} is corrupt (${check.problem}); it was deleted`, {
          hint: 'run the command again to download it afresh',
        });
      }
      fs.renameSync(planned.partPath, finalPath);
      fs.rmSync(validatorPath(planned.partPath), { force: true });
    }
  } finally {
    await pool.destroy();
  }
}
