// One measured step in its own process, so its peak RSS is its own: `generate` or `convert`.
import { performance } from 'node:perf_hooks';

const [step, shape, dir, outDir, outType = 'f16'] = process.argv.slice(2);
const t0 = performance.now();
if (step === 'generate') {
  const { generateSynthetic } = await import('../dist/synthetic/synthetic.js');
  await generateSynthetic(dir, { shape });
} else {
  const { convertCheckpoint } = await import('../dist/convert/convert-checkpoint.js');
  await convertCheckpoint({ modelDir: dir, outDir, outType });
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ step, shape, outType, seconds: +seconds.toFixed(1), cpuSeconds: +((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1), maxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(0) })}\n`);
