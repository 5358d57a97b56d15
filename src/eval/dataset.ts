/**
 * The utterances of an evaluation set, from either layout:
 *  - a LibriSpeech-style folder: `*.trans.txt` files anywhere below it, each line `ID text`,
 *    the audio beside it as `ID.flac` (or .wav, .mp3, ...);
 *  - a `manifest.jsonl`: one `{"audio": path, "text": reference}` per line, paths relative to
 *    the manifest's folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

export interface Utterance {
  readonly id: string;
  readonly audio: string;
  readonly reference: string;
}

const AUDIO_EXTENSIONS = ['.flac', '.wav', '.mp3', '.ogg', '.opus', '.m4a'];

export function readDataset(location: string): Utterance[] {
  if (!fs.existsSync(location)) throw new UserError(`evaluation set not found: ${location}`);
  const items = fs.statSync(location).isDirectory() ? readLibriSpeechFolder(location) : readManifest(location);
  if (items.length === 0) throw new UserError(`no utterances in ${location}`, { hint: 'give a folder with *.trans.txt files or a manifest.jsonl' });
  return items;
}

export function readManifest(file: string): Utterance[] {
  const dir = path.dirname(file);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, n }) => {
      let entry: { audio?: unknown; text?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        throw new UserError(`${file}:${n} is not JSON`);
      }
      if (typeof entry.audio !== 'string' || typeof entry.text !== 'string') {
        throw new UserError(`${file}:${n} needs "audio" and "text" strings`);
      }
      const audio = path.resolve(dir, entry.audio);
      return { id: path.parse(entry.audio).name, audio, reference: entry.text };
    });
}

export function readLibriSpeechFolder(root: string): Utterance[] {
  const out: Utterance[] = [];
  for (const transcript of findFiles(root, (name) => name.endsWith('.trans.txt')).sort()) {
    const dir = path.dirname(transcript);
    for (const line of fs.readFileSync(transcript, 'utf8').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      const audio = AUDIO_EXTENSIONS.map((ext) => path.join(dir, `${m[1]}${ext}`)).find((p) => fs.existsSync(p));
      if (!audio) throw new UserError(`${transcript}: no audio file for ${m[1]}`);
      out.push({ id: m[1], audio, reference: m[2] });
    }
  }
  return out;
}

function findFiles(dir: string, wanted: (name: string) => boolean): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return findFiles(p, wanted);
    return e.isFile() && wanted(e.name) ? [p] : [];
  });
}
