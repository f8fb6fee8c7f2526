// Renderers of an endpoint's live status (rollout.EndpointStatus) that both
// pages use.

import { h } from './lib.js';

const doneStates = ['complete', 'aborted', 'rolled_back', 'failed'];

// active reports whether a rollout is still in flight.
export function active(rollout) {
  return rollout != null && !doneStates.includes(rollout.phase);
}

// stateBadge shows an endpoint's state or a rollout's phase.
export function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, state.replace('_', ' '));
}

// trafficSplit shows the production weights as a bar and a legend. The
// stable version comes first and the version rolling out second, with a
// colour for each role, so a canary reads the same on every endpoint.
export function trafficSplit(status) {
  const weights = status.weights ?? {};
  const roles = { [status.stable_version]: 'stable' };
  if (active(status.rollout)) roles[status.rollout.version] = 'new';
  const order = { stable: 0, new: 1, other: 2 };
  const role = (v) => roles[v] ?? 'other';
  const versions = Object.keys(weights)
    .filter((v) => weights[v] > 0)
    .sort((a, b) => order[role(a)] - order[role(b)] || a.localeCompare(b));
  if (versions.length === 0) return h('p', { class: 'split muted' }, 'No traffic yet');

  const segments = versions.map((v) => {
    const segment = h('span', { class: `segment ${role(v)}` });
    segment.style.width = `${weights[v]}%`;
    return segment;
  });
  return h('div', { class: 'split' },
    h('div', { class: 'bar', 'aria-hidden': 'true' }, segments),
    h('ul', { class: 'legend', 'aria-label': 'Traffic split' },
      versions.map((v) => h('li', { class: role(v) }, `${v} ${weights[v]}%`)),
      !status.verified && h('li', { class: 'unverified', title: 'The shifter has not yet read these weights back from the load balancer' }, 'unverified')));
}
