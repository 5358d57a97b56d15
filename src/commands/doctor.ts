import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { BACKENDS, findBuild, listBuilds, cachedSourceDir, type BackendChoice } from '../llamacpp/index.js';
import { detectBackends, pickAuto } from '../llamacpp/backend.js';
import { cmakeVersion, versionAtLeast, cmakeInstallHint, compilerInstallHint } from '../llamacpp/cmake.js';
import { compilerIdentity } from '../llamacpp/index.js';
import { findOnPath, tryOutput } from '../llamacpp/exec.js';
import { MIN_CMAKE } from '../llamacpp/pinned.js';
import { gitInstallHint } from '../llamacpp/source.js';
import { cacheHome } from '../util/paths.js';
import { loggingOptions } from './options.js';
import { findFfmpeg } from '../audio/ffmpeg.js';

type Status = 'ok' | 'missing' | 'warn' | 'info';
interface Check {
  name: string;
  status: Status;
  detail: string;
  hint?: string;
}

function dirSize(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += fs.statSync(p).size;
        } catch {
          // vanished
        }
      }
    }
  }
  return total;
}

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export async function runDoctor(opts: { ffmpeg?: string | null; backend?: BackendChoice; verbose?: boolean }): Promise<{ checks: Check[]; ok: boolean }> {
  const checks: Check[] = [];
  const nodeOk = versionAtLeast(process.versions.node, '20.5');
  checks.push({ name: 'node', status: nodeOk ? 'ok' : 'missing', detail: `${process.version} at ${process.execPath}`, hint: nodeOk ? undefined : 'qwen3asr needs Node.js 20.5 or newer' });

  const ff = findFfmpeg(opts.ffmpeg ?? null);
  if (!ff) {
    checks.push({ name: 'ffmpeg', status: 'missing', detail: 'not found (--ffmpeg, QWEN3ASR_FFMPEG, ffmpeg-static, PATH)', hint: process.platform === 'darwin' ? 'brew install ffmpeg' : process.platform === 'win32' ? 'winget install ffmpeg' : 'sudo apt-get install ffmpeg' });
  } else {
    const v = await tryOutput(ff.path, ['-version']);
    checks.push(
      v
        ? { name: 'ffmpeg', status: 'ok', detail: `${v.split('\n')[0].replace(/ Copyright.*/, '')} (${ff.path}, from ${ff.source})` }
        : { name: 'ffmpeg', status: 'missing', detail: `${ff.path} (from ${ff.source}) does not run`, hint: 'fix --ffmpeg / QWEN3ASR_FFMPEG or install ffmpeg' },
    );
  }

  // Build tools are required only while there is nothing built to use.
  let build = null as Awaited<ReturnType<typeof findBuild>>;
  let buildError: string | null = null;
  try {
    build = await findBuild({ backend: opts.backend });
  } catch (err) {
    buildError = (err as Error).message;
  }
  const needTools = build === null;
  const need: Status = needTools ? 'missing' : 'warn';

  const candidates = await detectBackends();
  const auto = pickAuto(candidates);
  const target = opts.backend && opts.backend !== 'auto' ? opts.backend : auto;
  const cm = await cmakeVersion();
  const min = MIN_CMAKE[target];
  if (!cm) checks.push({ name: 'cmake', status: need, detail: 'not found', hint: cmakeInstallHint() });
  else if (!versionAtLeast(cm, min)) checks.push({ name: 'cmake', status: need, detail: `${cm}, but ${min} or newer is needed for the ${target} build`, hint: cmakeInstallHint() });
  else checks.push({ name: 'cmake', status: 'ok', detail: `${cm} (≥ ${min} needed for ${target})` });

  const cxx = await compilerIdentity();
  checks.push(cxx === 'none' ? { name: 'C++ compiler', status: need, detail: 'not found', hint: compilerInstallHint() } : { name: 'C++ compiler', status: 'ok', detail: cxx });
  const gitV = await tryOutput('git', ['--version']);
  checks.push(gitV ? { name: 'git', status: 'ok', detail: gitV } : { name: 'git', status: need, detail: 'not found', hint: gitInstallHint() });
  const ccache = findOnPath('ccache');
  checks.push({ name: 'ccache', status: ccache ? 'ok' : 'info', detail: ccache ? `${ccache} (rebuilds are fast)` : 'not found (optional: makes rebuilds fast)' });
  const ninja = findOnPath('ninja');
  checks.push({ name: 'ninja', status: 'info', detail: ninja ? `${ninja} (used)` : 'not found (optional; make is used)' });

  for (const c of candidates) {
    const picked = c.backend === auto ? ' ← auto' : '';
    checks.push({ name: `backend ${c.backend}`, status: 'info', detail: `${c.buildable ? (c.usable ? 'usable' : 'buildable') : 'unavailable'}: ${c.detail}${picked}` });
  }

  const home = cacheHome();
  checks.push({ name: 'cache', status: 'info', detail: fs.existsSync(home) ? `${home} (${human(dirSize(home))})` : `${home} (empty)` });
  const src = cachedSourceDir(home);
  checks.push({ name: 'llama.cpp source', status: 'info', detail: fs.existsSync(src) ? `${src}` : 'not fetched yet (fetched on first build)' });

  if (buildError) {
    checks.push({ name: 'binaries', status: 'missing', detail: buildError });
  } else if (build) {
    const v = await tryOutput(build.mtmdCli, ['--version'], { all: true });
    const line = v?.split('\n').find((l) => /version/.test(l)) ?? null;
    checks.push(
      v !== null
        ? { name: 'binaries', status: 'ok', detail: `${build.binDir} (${build.backend}; ${line ?? 'version ?'})` }
        : { name: 'binaries', status: 'missing', detail: `${build.mtmdCli} does not run`, hint: 'run `qwen3asr build --rebuild`' },
    );
  } else {
    checks.push({ name: 'binaries', status: 'info', detail: `not built yet for ${target} (built on first use, or now with \`qwen3asr build\`)` });
  }
  for (const b of listBuilds(home)) {
    if (build && b.binDir === build.binDir) continue;
    checks.push({ name: 'other build', status: 'info', detail: `${b.key} (${b.meta.version || 'version ?'}, ${b.meta.builtAt})` });
  }
  return { checks, ok: checks.every((c) => c.status !== 'missing') };
}

export function doctorCommand(): Command {
  const cmd = new Command('doctor')
    .description('check what qwen3asr needs: node, ffmpeg, cmake, a C++ compiler, git, GPU backends, the cache and the built binaries')
    .addOption(new Option('--ffmpeg <path>', 'ffmpeg binary to check').env('QWEN3ASR_FFMPEG'))
    .addOption(new Option('--backend <name>', 'backend to check the build for').choices([...BACKENDS]).env('QWEN3ASR_BACKEND').default('auto'));
  for (const o of loggingOptions()) cmd.addOption(o);
  cmd.action(async (opts: Record<string, unknown>) => {
    const { checks, ok } = await runDoctor({ ffmpeg: (opts.ffmpeg as string | undefined) ?? null, backend: opts.backend as BackendChoice, verbose: Boolean(opts.verbose) });
    const width = Math.max(...checks.map((c) => c.name.length));
    const mark: Record<Status, string> = { ok: 'ok  ', missing: 'FAIL', warn: 'warn', info: '    ' };
    if (!opts.quiet || !ok) {
      for (const c of checks) {
        if (opts.quiet && c.status !== 'missing') continue;
        process.stdout.write(`${mark[c.status]} ${c.name.padEnd(width)}  ${c.detail}${c.hint && c.status !== 'ok' ? ` — ${c.hint}` : ''}\n`);
      }
    }
    if (!ok) {
      process.stderr.write('qwen3asr: something required is missing (marked FAIL above)\n');
      process.exitCode = 1;
    }
  });
  return cmd;
}
