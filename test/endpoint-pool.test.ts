import { describe, expect, it } from 'vitest';
import { endpointPool } from '../src/runner/remote/endpoint-pool.js';
import { EndpointError } from '../src/runner/http/http-json.js';
import { ModelCallError, type ModelCall, type ModelRequest } from '../src/runner/request/decoder.js';
import type { Endpoint } from '../src/runner/remote/endpoint.js';
import { completionBody } from '../src/runner/http/llama-server-client.js';
import { chatBody } from '../src/runner/http/openai-chat-client.js';
import { endpointRoot } from '../src/runner/remote/endpoint.js';

const request = (name: string): ModelRequest => ({
  name, samples: new Float32Array(16), prompt: 'p <__media__> q', context: null, language: null, maxTokens: 5, contextSize: 256, ignoreEos: false,
});

function fake(url: string, capacity: number, behave: (r: ModelRequest) => Promise<string>) {
  const seen: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const call: ModelCall = async (r) => {
    seen.push(r.name);
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      return { text: await behave(r), stop: 'eos', tokens: 1 };
    } finally {
      inFlight--;
    }
  };
  const endpoint: Endpoint = { url, protocol: 'llama-server', capacity, call };
  return { endpoint, seen, peak: () => peak };
}

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('endpoint pool', () => {
  it('never gives an endpoint more requests than its capacity, and uses all of them', async () => {
    const a = fake('a', 2, async (r) => (await later(5), `a:${r.name}`));
    const b = fake('b', 1, async (r) => (await later(5), `b:${r.name}`));
    const pool = endpointPool([a.endpoint, b.endpoint]);
    expect(pool.capacity).toBe(3);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.call(request(String(i)))));
    expect(replies.map((r) => r.text.split(':')[1])).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(a.peak()).toBe(2);
    expect(b.peak()).toBe(1);
    expect(a.seen.length + b.seen.length).toBe(12);
    expect(b.seen.length).toBeGreaterThan(0);
  });

  it('retries a failed request on another endpoint and leaves an unreachable one alone', async () => {
    let now = 0;
    const dead = fake('dead', 4, async () => {
      throw new EndpointError('dead', 'unreachable', 'ECONNREFUSED');
    });
    const live = fake('live', 1, async (r) => `live:${r.name}`);
    const pool = endpointPool([dead.endpoint, live.endpoint], { downForMs: 1000, now: () => now });
    const replies = await Promise.all(['0', '1', '2'].map((n) => pool.call(request(n))));
    expect(replies.map((r) => r.text)).toEqual(['live:0', 'live:1', 'live:2']);
    expect(pool.down()).toEqual(['dead']);
    // Dead got at most the requests that arrived before it was marked.
    const before = dead.seen.length;
    await pool.call(request('3'));
    expect(dead.seen.length).toBe(before);
    now = 2000; // down time over: tried again
    await pool.call(request('4'));
    expect(dead.seen.length).toBe(before + 1);
  });

  it('a request every endpoint rejects fails with the last error', async () => {
    const a = fake('a', 1, async () => {
      throw new EndpointError('a', 'rejected', 'HTTP 400 bad');
    });
    const pool = endpointPool([a.endpoint]);
    await expect(pool.call(request('x'))).rejects.toBeInstanceOf(ModelCallError);
    expect(pool.down()).toEqual([]);
  });
});

describe('request bodies', () => {
  it('llama-server: the raw prompt with the server marker, greedy, sampler fields for a retry', () => {
    const body = completionBody({ ...request('r'), sampler: { repeatPenalty: 1.1, repeatLastN: 64, dryMultiplier: 0.8 } }, '<__media_X__>');
    expect(body).toMatchObject({
      prompt: { prompt_string: 'p <__media_X__> q' }, n_predict: 5, temperature: 0, cache_prompt: true,
      repeat_penalty: 1.1, repeat_last_n: 64, dry_multiplier: 0.8,
    });
    expect(body).not.toHaveProperty('ignore_eos');
  });

  it('OpenAI chat: system context, user audio, forced language continued as the assistant turn', () => {
    const body = chatBody('qwen', { ...request('r'), context: 'Ann', language: 'English' });
    expect(body).toMatchObject({
      model: 'qwen', max_tokens: 5, temperature: 0, continue_final_message: true, add_generation_prompt: false,
      messages: [
        { role: 'system', content: 'Ann' },
        { role: 'user', content: [{ type: 'input_audio', input_audio: { format: 'wav' } }] },
        { role: 'assistant', content: 'language English<asr_text>' },
      ],
    });
  });

  it('endpoint roots', () => {
    expect(endpointRoot('http://h:8080/v1/')).toBe('http://h:8080');
    expect(endpointRoot('http://h:8080')).toBe('http://h:8080');
    expect(endpointRoot('https://h/api/v1')).toBe('https://h/api');
  });
});
