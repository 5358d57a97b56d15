/**
 * What a llama.cpp binary runs on, and the load options that follow from it. `--list-devices`
 * names the accelerators a build sees: none on a CPU build (or a GPU build on a machine without
 * the GPU). With none, `-fit off`: fitting sizes GPU offload and context to the devices' free
 * memory, and to do so reads the model's metadata and vocabulary a second time before the real
 * load (~0.3 s per start on 2 cores, bench/RESULTS.md); on the CPU alone there is nothing to fit.
 * With a device, fitting stays on: it is what keeps a model that does not fit in VRAM from failing.
 */
import { execa } from 'execa';

/** The devices `--list-devices` printed ("CUDA0: NVIDIA …"); empty for "(none)"; null when it printed no list. */
export function parseDevices(output: string): string[] | null {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Available devices:');
  if (start < 0) return null;
  const devices: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s+\S/.test(line)) break;
    if (line.trim() !== '(none)') devices.push(line.trim());
  }
  return devices;
}

const listed = new Map<string, Promise<string[] | null>>();

/** The binary's devices, asked once per binary and run; null when it could not say (then nothing is assumed). */
export function listDevices(binary: string): Promise<string[] | null> {
  let devices = listed.get(binary);
  if (!devices) {
    devices = execa(binary, ['--list-devices'], { reject: false, stdin: 'ignore', timeout: 30_000 }).then(
      (r) => (r.exitCode === 0 ? parseDevices(`${r.stdout}\n${r.stderr}`) : null),
      () => null,
    );
    listed.set(binary, devices);
  }
  return devices;
}

/** Options for every start of `binary` (llama-server, llama-mtmd-cli): `-fit off` where it has no device. */
export async function loadArgs(binary: string): Promise<string[]> {
  const devices = await listDevices(binary);
  return devices !== null && devices.length === 0 ? ['-fit', 'off'] : [];
}
