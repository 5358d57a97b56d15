/**
 * What kind of server an --endpoint URL is. Our llama-server answers `GET /props` with its media
 * marker and slot count: it gets the raw prompt through `/completion` (the exact decode the local
 * runners make). Anything else is taken for an OpenAI-compatible server (vLLM): chat completions
 * with `input_audio`, the model named by `GET /v1/models`.
 */
import { UserError } from '../../errors.js';
import { EndpointError, requestJson } from '../http/http-json.js';
import { llamaServerCall } from '../http/llama-server-client.js';
import { openAiChatCall } from '../http/openai-chat-client.js';
import type { ModelCall } from '../request/decoder.js';

export interface Endpoint {
  readonly url: string;
  readonly protocol: 'llama-server' | 'openai-chat';
  /** Requests it is given at once: its parallel slots where it says, otherwise the default. */
  readonly capacity: number;
  readonly call: ModelCall;
}

/** `http://host:8080/v1/` → `http://host:8080`: both protocols' paths are added to the root. */
export function endpointRoot(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--endpoint ${url} is not a URL`, { hint: 'give it as http://host:port' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`--endpoint ${url}: only http and https are supported`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

const PROBE_TIMEOUT_MS = 10_000;

export async function connectEndpoint(url: string, defaultCapacity: number, timeoutMs: number): Promise<Endpoint> {
  const root = endpointRoot(url);
  const props = await readProps(root, url);
  if (props && typeof props.media_marker === 'string') {
    const slots = typeof props.total_slots === 'number' && props.total_slots > 0 ? props.total_slots : defaultCapacity;
    return { url: root, protocol: 'llama-server', capacity: slots, call: llamaServerCall(root, props.media_marker, timeoutMs) };
  }
  const models = (await requestJson(root, '/v1/models', undefined, PROBE_TIMEOUT_MS).catch((err: unknown) => {
    if (err instanceof EndpointError) throw new UserError(`--endpoint ${url} is neither llama-server nor OpenAI-compatible: ${err.message}`);
    throw err;
  })) as { data?: ReadonlyArray<{ id?: unknown }> };
  const model = models.data?.find((m) => typeof m.id === 'string')?.id as string | undefined;
  if (!model) throw new UserError(`--endpoint ${url} serves no model (GET /v1/models is empty)`);
  return { url: root, protocol: 'openai-chat', capacity: defaultCapacity, call: openAiChatCall(root, model, timeoutMs) };
}

interface Props {
  readonly media_marker?: unknown;
  readonly total_slots?: unknown;
}

/** llama-server's /props; null when the server has none (not llama-server). */
async function readProps(root: string, url: string): Promise<Props | null> {
  try {
    return (await requestJson(root, '/props', undefined, PROBE_TIMEOUT_MS)) as Props;
  } catch (err) {
    if (!(err instanceof EndpointError)) throw err;
    if (err.kind === 'unreachable' && !/HTTP 5/.test(err.message)) {
      throw new UserError(`cannot reach --endpoint ${url}: ${err.message}`, { hint: 'is the server running?' });
    }
    return null;
  }
}
