// Pictures of a canary: the rollout's series (status.rollout.series, one
// point per read of a step's traffic) drawn as inline SVG by the page
// itself, no chart library. Three charts share one time axis: the 5xx rate
// and the latency of the canary and the stable version, with the policy's
// thresholds, and the canary's share of the traffic, intended (its weight)
// and observed (its share of the requests the load balancer counted). The
// step boundaries cross all three, and the ION-Trail's judgements of the
// metrics (metrics.judged, a rollback on a metric) are marked where they
// happened.

import { h } from './lib.js';

const svgNS = 'http://www.w3.org/2000/svg';
const width = 640;
const height = 150;
const pad = { left: 46, right: 12, top: 14, bottom: 22 };

// s builds an SVG element, as h builds HTML ones.
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== false && value != null) el.setAttribute(name, value);
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

// canaryCharts returns the pictures of rollout r of endpoint ep, with the
// judgements among events; nothing when r has no series.
export function canaryCharts(ep, r, events = []) {
  const series = r?.series ?? [];
  if (series.length === 0) return null;
  const t0 = Date.parse(series[0].start);
  const t1 = Math.max(Date.parse(series[series.length - 1].end), t0 + 1000);
  const x = (t) => pad.left + ((Date.parse(t) - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const at = (p) => p.end;
  const boundaries = [];
  series.forEach((p, i) => {
    if (i === 0 || p.step !== series[i - 1].step) boundaries.push({ time: p.start, weight: p.canary.weight, label: `${p.canary.weight}%`, step: p.step });
  });
  const judged = events.filter((e) => e.type === 'metrics.judged' || (e.type === 'rollout.rolled_back' && e.details?.cause === 'metric'))
    .filter((e) => Date.parse(e.time) >= t0 && Date.parse(e.time) <= t1);
  const checks = ep.policy?.metric_checks ?? {};
  const rate = (v) => (v.requests > 0 ? (100 * v.errors_5xx) / v.requests : null);
  const latency = (v) => (v.requests > 0 ? v.latency_ms : null);
  const observed = (p) => {
    const total = p.canary.requests + p.stable.requests;
    return total > 0 ? (100 * p.canary.requests) / total : null;
  };
  const common = { x, at, boundaries, judged, series };
  return h('div', { class: 'charts' },
    chart({ ...common, id: 'chart-5xx', title: '5xx rate', unit: '%',
      lines: [{ role: 'stable', label: 'stable', value: (p) => rate(p.stable) }, { role: 'new', label: 'canary', value: (p) => rate(p.canary) }],
      threshold: checks.max_5xx_percent > 0 ? { value: checks.max_5xx_percent, label: `max ${checks.max_5xx_percent}%` } : null }),
    chart({ ...common, id: 'chart-latency', title: 'Latency', unit: 'ms',
      lines: [{ role: 'stable', label: 'stable', value: (p) => latency(p.stable) }, { role: 'new', label: 'canary', value: (p) => latency(p.canary) }],
      threshold: checks.max_latency && parseMS(checks.max_latency) > 0 ? { value: parseMS(checks.max_latency), label: `max ${checks.max_latency}` } : null }),
    chart({ ...common, id: 'chart-split', title: 'Traffic to the canary', unit: '%', max: 100,
      lines: [{ role: 'intended', label: 'intended (weight)', value: (p) => p.canary.weight, steps: true },
        { role: 'new', label: 'observed (requests)', value: observed }] }));
}

// chart draws one chart: its lines over the series, a threshold, the step
// boundaries and the judgement marks.
function chart({ id, title, unit, lines, threshold, max, x, at, boundaries, judged, series }) {
  const values = series.flatMap((p) => lines.map((l) => l.value(p))).filter((v) => v != null);
  const top = max ?? niceMax(Math.max(...values, threshold?.value ?? 0, unit === '%' ? 1 : 10) * 1.15);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const bottom = height - pad.bottom;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}-title`, class: 'chart', id },
    s('title', { id: `${id}-title` }, `${title} of the canary and the stable version over the rollout`),
    // Axes and their extremes.
    s('line', { class: 'axis', x1: pad.left, y1: bottom, x2: width - pad.right, y2: bottom }),
    s('line', { class: 'axis', x1: pad.left, y1: pad.top, x2: pad.left, y2: bottom }),
    s('text', { class: 'tick', x: pad.left - 4, y: y(top) + 4, 'text-anchor': 'end' }, `${fmt(top)}${unit}`),
    s('text', { class: 'tick', x: pad.left - 4, y: bottom, 'text-anchor': 'end' }, `0${unit}`),
    s('text', { class: 'tick', x: pad.left, y: height - 6 }, clock.format(new Date(series[0].start))),
    s('text', { class: 'tick', x: width - pad.right, y: height - 6, 'text-anchor': 'end' }, clock.format(new Date(series[series.length - 1].end))),
    // Step boundaries, with the canary's weight from there on.
    boundaries.map((b) => s('g', { class: 'boundary', 'data-step': b.step },
      s('line', { x1: x(b.time), y1: pad.top, x2: x(b.time), y2: bottom }),
      s('text', { x: x(b.time) + 3, y: pad.top + 9 }, b.label))),
    threshold && s('g', { class: 'threshold' },
      s('line', { x1: pad.left, y1: y(threshold.value), x2: width - pad.right, y2: y(threshold.value) }),
      s('text', { x: width - pad.right - 2, y: y(threshold.value) - 3, 'text-anchor': 'end' }, threshold.label)),
    lines.map((l) => {
      if (l.steps) {
        // The weight holds from its step's boundary to the next one.
        const end = x(series[series.length - 1].end);
        const d = boundaries.map((b, i) => `${i === 0 ? 'M' : 'V'}${x(b.time)},${y(b.weight)}`.replace(/^V([^,]+),/, 'V') +
          `H${i + 1 < boundaries.length ? x(boundaries[i + 1].time) : end}`);
        return s('g', { class: `series ${l.role}`, 'data-series': l.role }, s('path', { d: d.join('') }));
      }
      const pts = series.map((p) => [x(at(p)), l.value(p)]).filter(([, v]) => v != null).map(([px, v]) => [px, y(v)]);
      if (pts.length === 0) return null;
      return s('g', { class: `series ${l.role}`, 'data-series': l.role },
        s('path', { d: pts.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px},${py}`).join('') }),
        pts.map(([px, py]) => s('circle', { cx: px, cy: py, r: 2.2 })));
    }),
    // Where the ION-Trail says the metrics were judged.
    lines.some((l) => l.role === 'intended') ? null : judged.map((e) => s('g', { class: e.type === 'metrics.judged' ? 'judged' : 'judged failed' },
      s('title', {}, `${clock.format(new Date(e.time))} ${e.message}`),
      s('path', { d: `M${x(e.time)},${pad.top - 1}l-4,-7h8z` }))));
  return h('figure', { class: 'chart-figure' },
    h('figcaption', {}, h('strong', {}, title), ' ',
      lines.map((l) => h('span', { class: `key ${l.role}` }, l.label))),
    svg);
}

// parseMS reads a duration the API writes ("300ms", "1.5s", "2m") in
// milliseconds.
function parseMS(d) {
  const units = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  for (const [, n, unit] of String(d).matchAll(/([\d.]+)(ms|s|m|h)/g)) total += Number(n) * units[unit];
  return total;
}

// niceMax rounds a scale's top up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
