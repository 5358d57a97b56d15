/** The benches run the built tool (npm run build first): its modules from dist/, by path. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
export const dist = (module) => import(path.join(ROOT, 'dist', module));

const { decodeInput } = await dist('audio/decode.js');
const { analyseSpeech } = await dist('speech/speech-regions.js');
const { cutWindows } = await dist('windows/cut-windows.js');

/** A file as the CLI sees it before any model call: decoded audio, its speech, its windows. */
export async function windowsOf(file, maxSeconds) {
  const audio = await decodeInput(file, null);
  const speech = analyseSpeech(audio);
  return { audio, speech, windows: cutWindows(speech.regions, speech.loudness, { maxSeconds, duration: speech.duration }) };
}
