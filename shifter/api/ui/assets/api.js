// The shifter's API v1 as the pages use it: JSON calls and the live event
// trail, sent with the token the user pasted, if any.

import { sleep } from './lib.js';

// root is where the UI is served: this file is at root/ui/VERSION/, and the
// API at root/v1/, also behind a proxy that adds a path prefix.
export const root = new URL('../../', import.meta.url);

const tokenKey = 'ionroller.token';

// The token is kept in sessionStorage, so it is gone when the tab closes,
// and it is only ever sent in the Authorization header, never in a URL
// where access logs and history would keep it.
export const token = {
  get: () => sessionStorage.getItem(tokenKey),
  set: (value) => sessionStorage.setItem(tokenKey, value),
  clear: () => sessionStorage.removeItem(tokenKey),
};

// APIError is an error answer: code is invalid, not_found, conflict,
// unauthorized, forbidden or internal, and message says why.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(accept) {
  const h = { Accept: accept };
  const t = token.get();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

function apiURL(...segments) {
  return new URL(`v1/${segments.map(encodeURIComponent).join('/')}`, root);
}

async function failure(res) {
  const body = await res.json().catch(() => null);
  const e = body?.error;
  return new APIError(res.status, e?.code ?? 'internal', e?.message ?? `${res.status} ${res.statusText}`);
}

async function call(method, segments, signal, query = {}) {
  const url = apiURL(...segments);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, { method, headers: headers('application/json'), signal, cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return res.json();
}

export const whoami = () => call('GET', ['whoami']);
export const listEndpoints = (signal) => call('GET', ['endpoints'], signal);
export const getEndpoint = (name, signal) => call('GET', ['endpoints', name], signal);
export const act = (name, kind) => call('POST', ['endpoints', name, 'actions', kind]);
export const listRevisions = (name, from, signal) => call('GET', ['endpoints', name, 'revisions'], signal, { from });
export const diffRevisions = (name, from, to, signal) => call('GET', ['endpoints', name, 'revisions', to], signal, { against: from });

// followEvents hands the endpoint's trail to onEvents, then its new events
// as they happen, until signal aborts. It reads the server-sent events with
// fetch because EventSource cannot send the Authorization header, and, as
// EventSource would, reconnects after the last event it delivered. onState
// hears 'live', 'reconnecting', or the APIError (not found, forbidden) that
// ends it.
export async function followEvents(name, { signal, onEvents, onState }) {
  let after = 0;
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const res = await fetch(`${apiURL('endpoints', name, 'events')}?after=${after}`, {
        headers: headers('text/event-stream'), signal, cache: 'no-store',
      });
      if (!res.ok) throw await failure(res);
      onState('live');
      delay = 1000;
      for await (const events of readEvents(res.body)) {
        after = events.at(-1).seq;
        onEvents(events);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof APIError && err.status < 500) {
        onState(err);
        return;
      }
    }
    onState('reconnecting');
    await sleep(delay, signal);
    delay = Math.min(2 * delay, 15000);
  }
}

// readEvents yields the events of a text/event-stream body, a batch per chunk
// read, so that a long backlog is shown at once rather than event by event.
// The shifter sends one JSON event per data line and ends lines with \n.
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const lines = (pending + value).split('\n');
    pending = lines.pop();
    const batch = [];
    for (const line of lines) {
      if (line === '' && data.length) {
        batch.push(JSON.parse(data.join('\n')));
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
    if (batch.length) yield batch;
  }
}
