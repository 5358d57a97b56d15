/**
 * Spreads model requests over several endpoints. Each endpoint takes at most `capacity` requests
 * at once (its bounded queue); a request waits for the least-loaded endpoint with room. When an
 * endpoint fails a request, the request goes to another endpoint it has not tried; an unreachable
 * endpoint (refused, reset, timed out, 5xx) is left alone for `downForMs` by every request.
 * Results keep their window order because the caller stores them by window, not by arrival.
 */
import { ModelCallError, type ModelCall } from '../request/decoder.js';
import { EndpointError } from '../http/http-json.js';
import type { Endpoint } from './endpoint.js';

interface Slot {
  readonly endpoint: Endpoint;
  inFlight: number;
  downUntil: number;
}

export interface EndpointPool {
  readonly call: ModelCall;
  /** Requests all endpoints take at once: how many windows to keep in flight. */
  readonly capacity: number;
  /** Endpoints currently left alone after failing. */
  down(): string[];
}

export function endpointPool(endpoints: readonly Endpoint[], options: { readonly downForMs?: number; readonly now?: () => number } = {}): EndpointPool {
  if (endpoints.length === 0) throw new Error('endpointPool needs at least one endpoint');
  const downForMs = options.downForMs ?? 30_000;
  const now = options.now ?? Date.now;
  const slots: Slot[] = endpoints.map((endpoint) => ({ endpoint, inFlight: 0, downUntil: 0 }));
  const waiting: Array<() => void> = [];

  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };

  /** The least-loaded usable endpoint with room; waits while all usable ones are full; null: none usable. */
  const acquire = async (tried: ReadonlySet<Slot>): Promise<Slot | null> => {
    for (;;) {
      const usable = slots.filter((s) => !tried.has(s) && s.downUntil <= now());
      if (usable.length === 0) return null;
      const free = usable.filter((s) => s.inFlight < s.endpoint.capacity);
      if (free.length > 0) {
        const best = free.reduce((a, b) => (b.inFlight / b.endpoint.capacity < a.inFlight / a.endpoint.capacity ? b : a));
        best.inFlight += 1;
        return best;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };

  const call: ModelCall = async (request) => {
    const tried = new Set<Slot>();
    let lastError: ModelCallError | null = null;
    for (;;) {
      const slot = await acquire(tried);
      if (!slot) throw lastError ?? new ModelCallError('every endpoint failed recently');
      try {
        return await slot.endpoint.call(request);
      } catch (err) {
        if (!(err instanceof ModelCallError)) throw err;
        tried.add(slot);
        lastError = err;
        if (err instanceof EndpointError && err.kind === 'unreachable') slot.downUntil = now() + downForMs;
      } finally {
        slot.inFlight -= 1;
        wake();
      }
    }
  };

  return {
    call,
    capacity: endpoints.reduce((n, e) => n + e.capacity, 0),
    down: () => slots.filter((s) => s.downUntil > now()).map((s) => s.endpoint.url),
  };
}
