/**
 * Our WebVTT as a real browser reads it: headless Chromium loads the file as a <track> and
 * reports the cues it parsed, with their text decoded as it would be displayed.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderVtt } from '../src/writers/vtt.js';
import { findOnPath } from '../src/util/which.js';
import type { Cue } from '../src/transcript/cue.js';

const chromium = findOnPath('chromium') ?? findOnPath('chromium-browser') ?? findOnPath('google-chrome');
if (!chromium) throw new Error('this test needs Chromium (apt-get install chromium; .ci/run installs it)');

const cues: Cue[] = [
  { start: 0.5, end: 2.25, text: 'Hello there.' },
  { start: 2.5, end: 5, text: 'Tom & Jerry <3 <b>not bold</b>\nsay a --> b' },
  { start: 61.0004, end: 3725.9996, text: '你好，世界。' },
  { start: 3726, end: 3727.5, text: 'WEBVTT in the text, NOTE too' },
];

/** Karaoke cues (--highlight-words): a timestamp tag before each later word. */
const karaoke: Cue[] = [
  { start: 1, end: 3, text: 'Tom & Jerry\nsay <hi>', marks: [{ offset: 0, time: 1 }, { offset: 4, time: 1.5 }, { offset: 6, time: 1.75 }, { offset: 12, time: 2.2 }, { offset: 16, time: 2.6 }] },
  { start: 4, end: 5, text: 'plain', marks: [{ offset: 0, time: 4 }] },
];

const PAGE = `<!doctype html><html><body><video id="v" muted></video><pre id="out">pending</pre><script>
const track = document.createElement('track');
track.kind = 'subtitles'; track.src = location.hash.slice(1) || 'subs.vtt'; track.default = true;
document.getElementById('v').appendChild(track);
track.track.mode = 'hidden';
const out = (x) => { document.getElementById('out').textContent = JSON.stringify(x); };
const stamps = (f) => { const w = document.createTreeWalker(f, NodeFilter.SHOW_PROCESSING_INSTRUCTION); const s = []; while (w.nextNode()) s.push(w.currentNode.data); return s; };
track.addEventListener('load', () => out({ ok: true, cues: Array.from(track.track.cues, (c) => { const f = c.getCueAsHTML(); return {
  start: c.startTime, end: c.endTime, text: f.textContent, stamps: stamps(f) }; }) }));
track.addEventListener('error', () => out({ ok: false }));
</script></body></html>`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen3asr-vtt-test-'));
let server: http.Server;
let base = '';
beforeAll(async () => {
  const files: Record<string, [string, string]> = {
    '/index.html': ['text/html', PAGE],
    '/subs.vtt': ['text/vtt', renderVtt(cues)],
    '/karaoke.vtt': ['text/vtt', renderVtt(karaoke, { highlightWords: true })],
  };
  server = http.createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${f[0]}; charset=utf-8` }).end(f[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function decodeEntities(s: string): string {
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

async function parsedBy(file: string): Promise<{ ok: boolean; cues: { start: number; end: number; text: string; stamps: string[] }[] }> {
  const r = await execa(chromium!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${path.join(tmp, 'profile')}`,
    '--virtual-time-budget=10000', '--dump-dom', `${base}/index.html#${file}`,
  ], { reject: false, timeout: 60_000 });
  const m = /<pre id="out">(.*?)<\/pre>/s.exec(String(r.stdout));
  expect(m, String(r.stderr).slice(-1000)).not.toBeNull();
  return JSON.parse(decodeEntities(m![1]));
}

describe('WebVTT in a real browser', () => {
  it('Chromium parses every cue with its times and displays the text as written', async () => {
    const result = await parsedBy('subs.vtt');
    expect(result.ok).toBe(true);
    expect(result.cues).toHaveLength(cues.length);
    result.cues.forEach((c: { start: number; end: number; text: string }, i: number) => {
      expect(c.start).toBeCloseTo(Math.round(cues[i].start * 1000) / 1000, 3);
      expect(c.end).toBeCloseTo(Math.round(cues[i].end * 1000) / 1000, 3);
      expect(c.text).toBe(cues[i].text);
    });
  });

  it('karaoke cues: the text as written, a timestamp before each later word inside the cue', async () => {
    const result = await parsedBy('karaoke.vtt');
    expect(result.ok).toBe(true);
    expect(result.cues.map((c) => c.text)).toEqual(karaoke.map((c) => c.text));
    expect(result.cues[0].stamps).toEqual(['00:00:01.500', '00:00:01.750', '00:00:02.200', '00:00:02.600']);
    expect(result.cues[1].stamps).toEqual([]);
  });
});
