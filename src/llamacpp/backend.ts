import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, tryOutput } from './exec.js';

export const BACKENDS = ['auto', 'cpu', 'cuda', 'metal', 'vulkan'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type Backend = Exclude<BackendChoice, 'auto'>;

export interface BackendCandidate {
  backend: Backend;
  /** Whether the toolchain to build it is here. */
  buildable: boolean;
  /** Whether `auto` would pick it (buildable, and a device to run it on was seen). */
  usable: boolean;
  detail: string;
}

export function findNvcc(env: NodeJS.ProcessEnv = process.env): string | null {
  const onPath = findOnPath('nvcc', env);
  if (onPath) return onPath;
  for (const root of [env.CUDA_PATH, env.CUDA_HOME, '/usr/local/cuda'].filter(Boolean) as string[]) {
    const p = path.join(root, 'bin', process.platform === 'win32' ? 'nvcc.exe' : 'nvcc');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function vulkanHeaders(env: NodeJS.ProcessEnv): string | null {
  const roots = [env.VULKAN_SDK ? path.join(env.VULKAN_SDK, 'include') : null, '/usr/include', '/usr/local/include', '/opt/homebrew/include'];
  for (const r of roots) if (r && fs.existsSync(path.join(r, 'vulkan', 'vulkan.h'))) return r;
  return null;
}

/**
 * What could be built here, best first. Decision: `auto` picks CUDA only when nvcc is there AND
 * `nvidia-smi -L` lists a GPU. A CUDA toolkit without a GPU (containers, CI images, build hosts)
 * would cost a far longer build for binaries that then fail at runtime, so `auto` builds for
 * the CPU there; `--backend cuda` still builds CUDA on request (e.g. to ship elsewhere).
 * Vulkan likewise needs its headers, glslc and, for auto, a device listed by `vulkaninfo`.
 */
export async function detectBackends(env: NodeJS.ProcessEnv = process.env): Promise<BackendCandidate[]> {
  const out: BackendCandidate[] = [];
  if (process.platform === 'darwin') {
    const apple = os.arch() === 'arm64';
    out.push({ backend: 'metal', buildable: true, usable: apple, detail: apple ? 'Apple Silicon' : 'Intel Mac: Metal is slower than the CPU here' });
  }
  const nvcc = findNvcc(env);
  if (nvcc) {
    const gpus = await tryOutput('nvidia-smi', ['-L'], { timeoutMs: 10_000 });
    const count = gpus ? gpus.split('\n').filter((l) => /^GPU \d+/.test(l)).length : 0;
    const version = (await tryOutput(nvcc, ['--version']))?.match(/release ([\d.]+)/)?.[1];
    out.push({
      backend: 'cuda',
      buildable: true,
      usable: count > 0,
      detail: `nvcc ${version ?? '?'} at ${nvcc}; ${count > 0 ? `${count} GPU(s) visible` : 'no GPU visible (nvidia-smi -L)'}`,
    });
  } else {
    out.push({ backend: 'cuda', buildable: false, usable: false, detail: 'no nvcc on PATH or in CUDA_PATH' });
  }
  const headers = vulkanHeaders(env);
  const glslc = findOnPath('glslc', env);
  if (headers && glslc) {
    const info = await tryOutput('vulkaninfo', ['--summary'], { timeoutMs: 10_000 });
    const device = info !== null && /deviceName/.test(info) && !/llvmpipe/i.test(info.split('deviceName')[1] ?? '');
    out.push({ backend: 'vulkan', buildable: true, usable: device, detail: `headers in ${headers}, glslc at ${glslc}; ${device ? 'a GPU device is visible' : 'no GPU device seen by vulkaninfo'}` });
  } else {
    out.push({ backend: 'vulkan', buildable: false, usable: false, detail: `${headers ? '' : 'no Vulkan headers'}${!headers && !glslc ? ', ' : ''}${glslc ? '' : 'no glslc'}` });
  }
  out.push({ backend: 'cpu', buildable: true, usable: true, detail: 'always (OpenMP threads)' });
  return out;
}

/** The backend `auto` picks, from `detectBackends`. */
export function pickAuto(candidates: BackendCandidate[]): Backend {
  return candidates.find((c) => c.usable)?.backend ?? 'cpu';
}

/** The cmake -D options for a backend (the ones the cache key records). */
export function backendCmakeOptions(backend: Backend): string[] {
  switch (backend) {
    case 'cpu':
      return process.platform === 'darwin' ? ['-DGGML_METAL=OFF'] : [];
    case 'cuda':
      return ['-DGGML_CUDA=ON'];
    case 'metal':
      return ['-DGGML_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON'];
    case 'vulkan':
      return ['-DGGML_VULKAN=ON'];
  }
}

/**
 * The options every build gets: Release, static (the bin folder moves after the build; shared
 * libraries would carry RPATHs into the temp folder), no tests/examples/app, no OpenSSL (we never
 * download through llama.cpp), and no web UI for llama-server (LLAMA_USE_PREBUILT_UI would download
 * it from Hugging Face during the build). LLAMA_CURL is gone in v0.5.0 (deprecated and ignored).
 */
export const COMMON_CMAKE_OPTIONS: readonly string[] = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_TOOLS=ON',
  '-DLLAMA_BUILD_SERVER=ON',
  '-DLLAMA_BUILD_APP=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DGGML_CCACHE=OFF',
];
