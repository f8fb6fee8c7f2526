// Small helpers the pages share: building elements, showing times, and
// waiting.

// h builds an element: h('a', { href, class: 'x', onclick }, 'text', child).
// Attributes are set with setAttribute and strings become text nodes, so no
// value from the API is ever parsed as HTML. A false or null attribute or
// child is left out, which keeps conditional parts short.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// time shows an API timestamp as a clock time, with the full date on hover.
export function time(iso) {
  const d = new Date(iso);
  return h('time', { datetime: iso, title: full.format(d) }, clock.format(d));
}

// fromNow says how far iso is from now: "in 4 seconds", "3 minutes ago".
export function fromNow(iso) {
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  const [value, unit] = Math.abs(seconds) < 90 ? [seconds, 'second']
    : Math.abs(seconds) < 5400 ? [Math.round(seconds / 60), 'minute']
      : [Math.round(seconds / 3600), 'hour'];
  return relative.format(value, unit);
}

// every runs fn now and then ms after each run ends, until signal aborts.
// A failed run is shown by fn itself; the next one tries again.
export async function every(ms, fn, signal) {
  while (!signal.aborted) {
    await fn();
    await sleep(ms, signal);
  }
}

// sleep waits ms, or less if signal aborts.
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
