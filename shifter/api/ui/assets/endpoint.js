// An endpoint's page: its traffic, its rollout step by step, its
// environments, the operator's actions, and its event trail (ION-Trail), live.

import { act, followEvents, getEndpoint } from './api.js';
import { canaryCharts } from './charts.js';
import { changeList, historyPanel } from './history.js';
import { every, fromNow, h, time } from './lib.js';
import { active, observedTraffic, stateBadge, trafficSplit } from './status.js';

// refreshEvery is how often the status is read when no event says it
// changed: capacity and health change without events.
const refreshEvery = 2000;
// trailLength is how many events the page keeps, newest first.
const trailLength = 200;

const commands = [
  { kind: 'promote', label: 'Promote', help: 'Move to the next step now' },
  { kind: 'pause', label: 'Pause', help: 'Hold the rollout at this step until resumed' },
  { kind: 'resume', label: 'Resume', help: 'Let a paused rollout go on' },
  { kind: 'abort', label: 'Abort', help: 'Return all traffic to the stable version' },
];

// badEvents are the events that end a rollout badly or report a failure.
const badEvents = new Set(['rollout.aborted', 'rollout.rolled_back', 'rollout.failed', 'action.failed', 'alarm.reported']);

export function showEndpoint(main, name, { signal, link, canAct }) {
  document.title = `${name} · ionroller`;
  const facts = h('dl', { class: 'facts' });
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  const traffic = h('div');
  const rollout = h('div');
  const environments = h('div');
  const charts = section({ id: 'canary', title: 'Canary analysis' });
  charts.hidden = true;
  const actions = canAct ? actionBar(name, () => refresh()) : null;
  // judgements are the trail's verdicts on the metrics, which the charts
  // mark; the trail lists events as they come.
  const judgements = [];
  const trail = eventTrail(name, signal, (events) => {
    judgements.push(...events.filter((e) => e.type === 'metrics.judged' || e.type === 'rollout.rolled_back'));
    judgements.splice(0, Math.max(0, judgements.length - trailLength));
    refreshSoon();
  });
  let last = null;
  const history = historyPanel(name, { signal, status: () => last?.status });

  const statusPanel = h('div', { class: 'columns', id: 'status-panel', role: 'tabpanel', 'aria-labelledby': 'status-tab' },
    h('div', {},
      section({ id: 'traffic', title: 'Traffic' }, traffic),
      section({ id: 'rollout', title: 'Rollout' }, actions?.element, rollout),
      charts,
      section({ id: 'environments', title: 'Environments' }, environments)),
    section({ id: 'trail', title: 'ION-Trail', aside: trail.state }, trail.list));
  const historyTab = section({ id: 'history', title: 'Configuration history' }, history.element);
  historyTab.setAttribute('role', 'tabpanel');
  historyTab.hidden = true;
  const tabs = tabBar([
    { id: 'status-tab', label: 'Status', panel: statusPanel },
    { id: 'history-tab', label: 'History', panel: historyTab, onshow: history.load },
  ]);

  main.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: link('') }, 'Endpoints')),
    h('h1', {}, name),
    facts,
    problem,
    tabs,
    statusPanel,
    historyTab);

  // Reads may overlap (a timer and an event); only the latest is shown.
  let asked = 0;
  async function refresh() {
    const mine = ++asked;
    try {
      const view = await getEndpoint(name, signal);
      if (mine !== asked) return;
      render(view);
      problem.hidden = true;
    } catch (err) {
      if (signal.aborted || mine !== asked) return;
      problem.textContent = `Could not read ${name}: ${err.message}`;
      problem.hidden = false;
    }
  }
  // Events come in bursts (a step writes several); one read follows a burst.
  let soon;
  function refreshSoon() {
    clearTimeout(soon);
    soon = setTimeout(refresh, 100);
  }

  function render(view) {
    last = view;
    const { endpoint: ep, status: st } = view;
    facts.replaceChildren(...factList(ep, st));
    traffic.replaceChildren(...[trafficSplit(st), observedTraffic(st)].filter(Boolean));
    rollout.replaceChildren(...rolloutView(st.rollout));
    const pictures = canaryCharts(ep, st.rollout, judgements);
    charts.hidden = !pictures;
    charts.replaceChildren(charts.firstElementChild, ...[pictures].filter(Boolean));
    environments.replaceChildren(environmentTable(st.environments));
    actions?.update(st.rollout ?? null);
  }

  every(refreshEvery, refresh, signal);
}

// tabBar switches between panels; a tab's onshow runs each time it is
// chosen, so the history is read afresh.
function tabBar(tabs) {
  const buttons = tabs.map((t, i) => h('button', {
    type: 'button', role: 'tab', id: t.id, 'aria-selected': String(i === 0), onclick: () => choose(t),
  }, t.label));
  function choose(chosen) {
    tabs.forEach((t, i) => {
      t.panel.hidden = t !== chosen;
      buttons[i].setAttribute('aria-selected', String(t === chosen));
    });
    chosen.onshow?.();
  }
  return h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Endpoint views' }, buttons);
}

function section({ id, title, aside }, ...content) {
  return h('section', { id, 'aria-labelledby': `${id}-title` },
    h('div', { class: 'section-head' }, h('h2', { id: `${id}-title` }, title), aside),
    content);
}

function factList(ep, st) {
  const fact = (term, ...value) => h('div', {}, h('dt', {}, term), h('dd', {}, value));
  return [
    fact('State', stateBadge(st.state)),
    st.observe_only && fact('Mode', h('span', { 'data-mode': 'observe-only' }, 'Observe only: decides and records what it would do; writes nothing to AWS')),
    fact('Team', ep.team || '—'),
    fact('Live version', st.stable_version || '—'),
    st.preview_version && fact('Preview', st.preview_version),
    st.override && fact('Override', overrideItem(st.override)),
    st.hot_versions?.length && fact('Hot for rollback', st.hot_versions.map((v, i) => [i > 0 && ', ', `${v.version}${specOf(v)} until `, time(v.until), ` — ${readiness(v)}`])),
    st.conditions?.length && fact('Conditions', h('ul', { class: 'conditions' }, st.conditions.map(conditionItem))),
    st.observed_at && fact('Observed', time(st.observed_at)),
  ].filter(Boolean);
}

// overrideItem is a break-glass override in force: an alert, since
// releases applied meanwhile move no traffic.
function overrideItem(o) {
  return h('span', { class: 'error', role: 'alert', 'data-override': o.version },
    `Traffic pinned to ${o.version} until `, time(o.until), ` by ${o.actor}: ${o.reason}. Releases applied meanwhile wait for its end.`);
}

// conditionItem is one thing the shifter found wrong; a blocking one is an
// alert, since rollouts hold while it lasts.
function conditionItem(c) {
  return h('li', { class: c.blocking ? 'error' : 'muted', role: c.blocking ? 'alert' : null, 'data-condition': c.type },
    h('strong', {}, c.type), c.blocking && ' (blocking)', ' since ', time(c.since), ': ', c.message);
}

function rolloutView(r) {
  if (!r) return [h('p', { class: 'muted' }, 'No rollout yet.')];
  const steps = r.plan || [];
  const ended = ['aborted', 'rolled_back', 'failed'].includes(r.phase);
  return [
    h('p', { class: 'rollout-head' },
      h('strong', {}, r.from_version ? `${r.from_version} → ${r.version}` : r.version), ' ',
      stateBadge(r.paused ? 'paused' : r.phase),
      r.kind !== 'deploy' && ` ${r.kind}`),
    r.kind === 'rollback' && r.spec_revision && r.spec_revision !== r.from_spec_revision &&
      h('p', { class: 'brings-back' }, `Brings back the configuration of spec r${r.spec_revision} (r${r.from_spec_revision} was live).`),
    r.step > 0 && h('p', { class: 'step-count' }, `Step ${r.step} of ${r.steps}`),
    steps.length > 0 && h('ol', { class: 'steps' }, steps.map((s, i) => stepItem(s, i + 1, steps.length, r))),
    h('p', { class: 'next' }, nextText(r)),
    r.holding && h('p', { class: 'error', role: 'alert' }, r.holding),
    r.judged && h('p', { class: 'judged' }, 'Metrics ', time(r.judged_at), ': ', r.judged),
    r.reason && h('p', { class: ended ? 'error' : 'muted' }, r.reason),
  ].filter(Boolean);
}

function stepItem(step, n, last, r) {
  const current = n === r.step && active(r);
  const done = n < r.step || (n === r.step && r.phase === 'complete');
  const hint = step.pause ? `holds ${step.pause}` : n < last ? 'waits for a promote' : 'then bakes';
  return h('li', { class: current ? 'current' : done ? 'done' : 'todo', 'aria-current': current && 'step' },
    h('span', { class: 'weight' }, `${step.weight}%`), h('span', { class: 'hint' }, hint));
}

function nextText(r) {
  if (r.paused) {
    const by = `Paused by ${r.paused_by || 'a person'}${r.pause_reason ? ` (${r.pause_reason})` : ''}`;
    return r.paused_until ? [`${by} until `, time(r.paused_until)] : `${by} until resumed`;
  }
  if (r.next_at) return [r.phase === 'baking' ? 'Baking, complete ' : 'Next step ', fromNow(r.next_at), ' at ', time(r.next_at)];
  switch (r.phase) {
    case 'paused': return 'Waiting for a promote';
    case 'pending': case 'provisioning': case 'waiting_healthy': return 'Waiting for the new environment to be healthy';
  }
  return r.ended_at ? ['Ended at ', time(r.ended_at)] : '';
}

// readiness says how ready a hot version is to take all the traffic back.
function readiness(v) {
  if (v.ready) return `ready: ${v.healthy} of ${v.full_capacity} healthy`;
  if (v.scale_up) return `not ready: runs ${v.capacity} of ${v.full_capacity}, scaled up first`;
  return `not ready: ${v.healthy} of ${v.full_capacity} healthy`;
}

// specOf names the spec revision a hot version runs: " (spec r3)".
function specOf(v) {
  return v.spec_revision ? ` (spec r${v.spec_revision})` : '';
}

function environmentTable(envs = []) {
  if (envs.length === 0) return h('p', { class: 'muted' }, 'No environments.');
  const columns = ['Version', 'Spec', 'Phase', 'Weight', 'Capacity', 'In service / healthy', 'Hot until'];
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, envs.map((e) => h('tr', {},
      // A long image name may break after a / or a : only.
      h('th', { scope: 'row' }, e.version, ' ', h('code', {}, e.image.split(/(?<=[/:])/).map((part) => [part, h('wbr')]))),
      h('td', {}, e.spec_revision ? `r${e.spec_revision}` : '—'),
      h('td', {}, stateBadge(e.phase)),
      h('td', { class: 'num' }, `${e.weight}%`),
      h('td', { class: 'num' }, String(e.capacity)),
      h('td', { class: 'num' }, `${e.in_service} / ${e.healthy}`),
      h('td', {}, e.hot_until ? time(e.hot_until) : '—')))));
}

// actionBar is the operator's buttons, for a caller who may act. Each asks
// the API and shows its answer; what the shifter then does shows in the
// trail. A button is disabled when the rollout's state rules it out, and the
// API still has the last word.
function actionBar(name, refresh) {
  const result = h('p', { class: 'result', role: 'status' });
  let rollout = null;
  let busy = false;
  const buttons = commands.map((c) => h('button', {
    type: 'button', class: `action ${c.kind}`, 'data-kind': c.kind, title: c.help, onclick: () => run(c),
  }, c.label));

  function update(r = rollout) {
    rollout = r;
    const live = active(rollout);
    const allowed = { promote: live, pause: live && !rollout.paused, resume: live && rollout.paused, abort: live };
    for (const b of buttons) b.disabled = busy || !allowed[b.dataset.kind];
  }

  async function run({ kind, label }) {
    if (kind === 'abort' && !window.confirm(`Abort the rollout of ${name}? All traffic returns to the stable version.`)) return;
    busy = true;
    update();
    try {
      const command = await act(name, kind);
      result.className = 'result ok';
      result.textContent = `${label} requested (command ${command.seq}); the trail shows what the shifter does.`;
    } catch (err) {
      result.className = 'result error';
      result.textContent = `${label} refused: ${err.message}`;
    } finally {
      busy = false;
      update();
      refresh();
    }
  }

  return { element: h('div', { class: 'actions' }, h('div', { role: 'group', 'aria-label': 'Rollout actions' }, buttons), result), update };
}

// eventTrail follows the endpoint's events and lists them, newest first,
// calling onNew with each batch so the status is read again at once.
function eventTrail(name, signal, onNew) {
  const state = h('p', { class: 'stream' }, 'connecting…');
  const list = h('ol', { class: 'events', role: 'log', 'aria-label': 'Events, newest first' });
  followEvents(name, {
    signal,
    onEvents(events) {
      list.prepend(...events.map(eventItem).reverse());
      while (list.children.length > trailLength) list.lastElementChild.remove();
      onNew(events);
    },
    onState(s) {
      const ok = typeof s === 'string';
      state.className = `stream ${ok ? s : 'error'}`;
      state.textContent = ok ? s : `stopped: ${s.message}`;
    },
  });
  return { state, list };
}

function eventItem(e) {
  return h('li', { class: badEvents.has(e.type) ? 'event bad' : 'event' },
    time(e.time),
    h('span', { class: 'type' }, e.type),
    h('span', { class: 'message' }, e.message, e.changes?.length && changeList(e.changes)),
    h('span', { class: 'actor' }, e.version ? `${e.actor} · ${e.version}` : e.actor));
}
