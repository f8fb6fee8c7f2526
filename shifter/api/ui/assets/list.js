// The list of endpoints: what is live on each and how its traffic is split.

import { listEndpoints } from './api.js';
import { every, h } from './lib.js';
import { active, stateBadge, trafficSplit } from './status.js';

// refreshEvery is how often the list is read again. One request covers every
// endpoint, where following each endpoint's trail would take one each.
const refreshEvery = 2000;

export function showList(main, { signal, link }) {
  document.title = 'Endpoints · ionroller';
  const rows = h('tbody');
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  main.replaceChildren(
    h('h1', {}, 'Endpoints'),
    problem,
    h('table', { class: 'endpoints' },
      h('thead', {}, h('tr', {},
        ['Endpoint', 'Team', 'Live version', 'Traffic', 'State', 'Rollout'].map((c) => h('th', { scope: 'col' }, c)))),
      rows));

  const row = ({ endpoint: ep, status: st }) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: link(`endpoints/${encodeURIComponent(ep.name)}`) }, ep.name)),
    h('td', {}, ep.team || '—'),
    h('td', {}, st.stable_version || '—'),
    h('td', { class: 'traffic' }, trafficSplit(st)),
    h('td', {}, stateBadge(st.state)),
    h('td', {}, active(st.rollout) ? `${st.rollout.version}, step ${st.rollout.step} of ${st.rollout.steps}` : '—'));

  every(refreshEvery, async () => {
    try {
      const { endpoints } = await listEndpoints(signal);
      rows.replaceChildren(...(endpoints.length ? endpoints.map(row)
        : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No endpoints yet.'))]));
      problem.hidden = true;
    } catch (err) {
      if (signal.aborted) return;
      problem.textContent = `Could not read the endpoints: ${err.message}`;
      problem.hidden = false;
    }
  }, signal);
}
