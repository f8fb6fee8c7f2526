// An endpoint's configuration history: every kept revision of its spec,
// who wrote it, what it changed, which versions run it, and the changes
// between any two. Secrets are only said to have changed: the API never
// sends their values.

import { diffRevisions, listRevisions } from './api.js';
import { h, time } from './lib.js';

// changeList shows the fields a change of the spec touched, one a line:
// "template.instance_type: "t3.micro" → "t3.small"", as `shifter diff` does.
export function changeList(changes = []) {
  return h('ul', { class: 'changes' }, changes.map((c) => h('li', { class: c.secret ? 'change secret' : 'change' },
    h('code', {}, c.path), ': ',
    c.secret ? 'changed (secret)' : [value(c.old), ' → ', value(c.new)])));
}

function value(v) {
  return h('code', {}, v === undefined ? '(unset)' : JSON.stringify(v));
}

// historyPanel lists the revisions when shown, and compares two on request.
// status() returns the endpoint's last status, which says what runs each.
export function historyPanel(name, { signal, status }) {
  const table = h('div');
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  const from = h('select', { id: 'diff-from', 'aria-label': 'From revision' });
  const to = h('select', { id: 'diff-to', 'aria-label': 'To revision' });
  const diff = h('div', { class: 'diff', role: 'region', 'aria-label': 'Changes between the revisions' });
  const form = h('form', { class: 'compare', onsubmit: (e) => { e.preventDefault(); compare(); } },
    h('label', { for: 'diff-from' }, 'Compare revision'), from,
    h('label', { for: 'diff-to' }, 'with'), to,
    h('button', { type: 'submit' }, 'Show changes'));

  async function load() {
    try {
      const revisions = [];
      for (let next = 1; next;) {
        const page = await listRevisions(name, next, signal);
        revisions.push(...page.revisions);
        next = page.next;
      }
      table.replaceChildren(revisionTable(revisions, status()));
      const options = (selected) => revisions.map((r) => h('option', { value: r.revision, selected: r.revision === selected }, `r${r.revision}`));
      from.replaceChildren(...options(revisions.at(-2)?.revision));
      to.replaceChildren(...options(revisions.at(-1)?.revision));
      problem.hidden = true;
    } catch (err) {
      if (signal.aborted) return;
      problem.textContent = `Could not read the history of ${name}: ${err.message}`;
      problem.hidden = false;
    }
  }

  async function compare() {
    try {
      const v = await diffRevisions(name, from.value, to.value, signal);
      diff.replaceChildren(
        h('p', {}, `r${from.value} → r${to.value}`, v.changes?.length ? '' : ': no change to the spec'),
        v.changes?.length && changeList(v.changes));
      problem.hidden = true;
    } catch (err) {
      if (signal.aborted) return;
      problem.textContent = `Could not compare: ${err.message}`;
      problem.hidden = false;
    }
  }

  return { element: h('div', {}, problem, form, diff, table), load };
}

function revisionTable(revisions, st) {
  const runs = new Map();
  for (const e of st?.environments ?? []) {
    if (e.spec_revision) runs.set(e.spec_revision, [...(runs.get(e.spec_revision) ?? []), `${e.version} (${e.phase})`]);
  }
  const columns = ['Revision', 'Written', 'By', 'Runs', 'Changes'];
  return h('table', { class: 'revisions' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, revisions.toReversed().map((r) => h('tr', { 'data-revision': r.revision },
      h('th', { scope: 'row' }, `r${r.revision}`),
      h('td', {}, time(r.time)),
      h('td', {}, r.actor || '—'),
      h('td', {}, runs.get(r.revision)?.join(', ') || '—'),
      h('td', {}, changesOf(r))))));
}

// changesOf is what a revision changed from the one it replaced.
function changesOf(r) {
  if (r.replaces === 0) return 'created';
  if (!r.against) return `r${r.replaces} is not kept`;
  if (!r.changes?.length) return 'no change to the spec';
  return changeList(r.changes);
}
