import { Command, Option } from 'commander';
import { UsageError, UserError } from '../errors.js';
import { interruptSignal } from '../util/cleanup.js';
import { createLog, type Log, type LogLevel } from '../util/log.js';
import { listCached, modelsRoot, partialFiles, readCached, type CachedModel } from '../models/cache.js';
import { downloadAliasOf, findCatalogModel, loadCatalog, type CatalogModel } from '../models/catalog.js';
import { formatBytes } from '../models/download-progress.js';
import { hfName, isHfName, parseHfRef } from '../models/hf-ref.js';
import { importModel, removeModel } from '../models/import.js';
import { pullHf, pullModel } from '../models/pull.js';
import { loggingOptions } from './options.js';

function levelOf(opts: { quiet?: boolean; verbose?: boolean }): LogLevel {
  if (opts.quiet && opts.verbose) throw new UsageError('--quiet and --verbose contradict each other', 'keep one');
  return opts.quiet ? 'quiet' : opts.verbose ? 'verbose' : 'normal';
}

function withLogging(cmd: Command): Command {
  for (const o of loggingOptions()) cmd.addOption(o);
  return cmd;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** The download size of an alias before it is cached (a quantized one: its file plus the shared mmproj). */
function approxSize(m: CatalogModel): number {
  if (m.kind === 'checkpoint') return m.approxBytes ?? 0;
  const base = downloadAliasOf(m);
  const mmproj = base.mmproj.bytes ?? base.mmproj.approxBytes ?? 0;
  return m.kind === 'quantized' ? (m.approxBytes ?? 0) + mmproj : (m.text.bytes ?? m.text.approxBytes ?? 0) + mmproj;
}

/** Where a cached model that is not a catalog alias came from, in a few words. */
function originOf(c: CachedModel): string {
  const s = c.manifest.source;
  switch (s.kind) {
    case 'convert':
      return `converted from ${s.checkpoint}`;
    case 'import':
      return `imported from ${s.text}`;
    case 'hf':
      return `Hugging Face ${s.repo}: ${c.manifest.text.file} + ${c.manifest.mmproj.file}`;
    case 'quantized':
      return `${s.type.toUpperCase()} made from ${s.from}`;
    case 'catalog':
      return `downloaded from ${s.text}`;
  }
}

function listText(): string {
  const catalog = loadCatalog();
  const cached = listCached();
  const rows: string[][] = [['NAME', 'SIZE', 'CACHED', 'DESCRIPTION']];
  for (const m of catalog.models) {
    const c = cached.find((x) => x.name === m.alias);
    const approx = approxSize(m);
    const size = c ? formatBytes(c.manifest.text.bytes + c.manifest.mmproj.bytes) : approx > 0 ? `~${formatBytes(approx)}` : '?';
    const partial = !c && partialFiles(m.alias).length > 0;
    const name = m.alias === catalog.defaultAlias ? `${m.alias} (default)` : m.alias;
    rows.push([name, size, c ? 'yes' : partial ? 'partial' : 'no', m.description]);
  }
  for (const c of cached) {
    if (findCatalogModel(c.name)) continue;
    rows.push([c.name, formatBytes(c.manifest.text.bytes + c.manifest.mmproj.bytes), 'yes', originOf(c)]);
  }
  return `${table(rows)}\n\ncache: ${modelsRoot()}\n`;
}

/** For scripts: every catalog model and cached model, with paths where cached. */
function listJson() {
  const catalog = loadCatalog();
  const cached = listCached();
  const names = [...catalog.models.map((m) => m.alias), ...cached.map((c) => c.name).filter((n) => !findCatalogModel(n))];
  return {
    cache: modelsRoot(),
    default: catalog.defaultAlias,
    models: names.map((name) => {
      const entry = findCatalogModel(name);
      const c = cached.find((x) => x.name === name) ?? null;
      return {
        name,
        description: entry?.description ?? (c ? originOf(c) : null),
        cached: c !== null,
        partial: !c && partialFiles(name).length > 0,
        source: c?.manifest.source.kind ?? 'catalog',
        text: c ? c.textPath : null,
        mmproj: c ? c.mmprojPath : null,
        bytes: c ? c.manifest.text.bytes + c.manifest.mmproj.bytes : null,
      };
    }),
  };
}

function pullCmd(): Command {
  return withLogging(
    new Command('pull')
      .description('download a model into the cache (resumes an interrupted download)')
      .argument('<alias>', 'a name from `qwen3asr models list`, or hf:OWNER/REPO[:QUANT] (a Hugging Face repository)'),
  ).action(
    async (alias: string, opts: { quiet?: boolean; verbose?: boolean }) => {
      const level = levelOf(opts);
      const log = createLog(level);
      if (isHfName(alias)) {
        const ref = parseHfRef(alias);
        const r = await pullHf(ref, { log, level, signal: interruptSignal });
        if (!r.downloaded) log.info(`${hfName(ref)} is in the cache already: ${r.model.dir}`);
        return;
      }
      const entry = findCatalogModel(alias);
      if (!entry) {
        if (readCached(alias)) {
          log.info(`${alias} is in the cache already (imported)`);
          return;
        }
        const aliases = loadCatalog().models.map((m) => m.alias).join(', ');
        throw new UserError(`unknown model '${alias}'`, { hint: `pull one of ${aliases}` });
      }
      const r = await pullModel(entry, { log, level, signal: interruptSignal });
      if (!r.downloaded) log.info(`${alias} is in the cache already: ${r.model.dir}`);
    },
  );
}

function importCmd(): Command {
  return withLogging(
    new Command('import')
      .description('check a text GGUF + mmproj GGUF pair and add it to the cache, so that --model NAME uses it')
      .argument('<text>', 'the text model GGUF')
      .argument('<mmproj>', 'the audio encoder (mmproj) GGUF')
      .addOption(new Option('--as <name>', 'the name to use it by (default: the text file name without .gguf)')),
  ).action(async (text: string, mmproj: string, opts: { as?: string; quiet?: boolean; verbose?: boolean }) => {
    const log = createLog(levelOf(opts));
    const m = await importModel(text, mmproj, opts.as ?? null, { log, signal: interruptSignal });
    log.info(`imported as ${m.name}: use it with --model ${m.name}`);
  });
}

function pathCmd(): Command {
  return new Command('path')
    .description('print the text and mmproj file paths of a cached model, one per line (exit 1 if not cached)')
    .argument('<name>', 'a model alias, imported name or hf:OWNER/REPO[:QUANT]')
    .action((name: string) => {
      const m = readCached(name);
      if (!m) throw new UserError(`${name} is not in the cache`, { hint: findCatalogModel(name) || isHfName(name) ? `download it with \`qwen3asr models pull ${name}\`` : 'see `qwen3asr models list`' });
      process.stdout.write(`${m.textPath}\n${m.mmprojPath}\n`);
    });
}

function rmCmd(): Command {
  return withLogging(
    new Command('rm').description('remove a model (and any unfinished download of it) from the cache').argument('<name>', 'a model alias, imported name or hf:OWNER/REPO[:QUANT]'),
  ).action(
    async (name: string, opts: { quiet?: boolean; verbose?: boolean }) => {
      const log: Log = createLog(levelOf(opts));
      if (!(await removeModel(name, { log, signal: interruptSignal }))) {
        throw new UserError(`${name} is not in the cache`, { hint: 'see `qwen3asr models list`' });
      }
      log.info(`removed ${name}`);
    },
  );
}

export function modelsCommand(): Command {
  const cmd = new Command('models').description('list, download, import and remove models');
  cmd.addCommand(
    new Command('list')
      .description('the models known and cached, and where the cache is')
      .addOption(new Option('--json', 'print the list as JSON'))
      .action((opts: { json?: boolean }) => {
        process.stdout.write(opts.json ? `${JSON.stringify(listJson(), null, 2)}\n` : listText());
      }),
    { isDefault: true },
  );
  cmd.addCommand(pullCmd());
  cmd.addCommand(importCmd());
  cmd.addCommand(pathCmd());
  cmd.addCommand(rmCmd());
  return cmd;
}
