// Renderers of an endpoint's live status (rollout.EndpointStatus) that both
// pages use.

import { h, time } from './lib.js';

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
  const { role, versions } = splitOrder(status, weights);
  if (versions.length === 0) return h('p', { class: 'split muted' }, 'No traffic yet');
  return h('div', { class: 'split' },
    splitBar(versions, weights, role),
    h('ul', { class: 'legend', 'aria-label': 'Traffic split' },
      versions.map((v) => h('li', { class: role(v) }, `${v} ${weights[v]}%`)),
      !status.verified && h('li', { class: 'unverified', title: 'The shifter has not yet read these weights back from the load balancer' }, 'unverified')));
}

// splitOrder gives each version of a split its role (stable, new, other)
// and lists those with a share, stable first and the new version second.
function splitOrder(status, shares) {
  const roles = { [status.stable_version]: 'stable' };
  if (active(status.rollout)) roles[status.rollout.version] = 'new';
  const order = { stable: 0, new: 1, other: 2 };
  const role = (v) => roles[v] ?? 'other';
  const versions = Object.keys(shares)
    .filter((v) => shares[v] > 0)
    .sort((a, b) => order[role(a)] - order[role(b)] || a.localeCompare(b));
  return { role, versions };
}

// splitBar draws shares (percent by version) as one bar.
function splitBar(versions, shares, role) {
  return h('div', { class: 'bar', 'aria-hidden': 'true' }, versions.map((v) => {
    const segment = h('span', { class: `segment ${role(v)}` });
    segment.style.width = `${shares[v]}%`;
    return segment;
  }));
}

// observedTraffic shows, under the weights, the split of the requests the
// load balancer counted in the step in flight (ALB's RequestCount per target
// group), and where the step's hold for it is: a rule's weights are not the
// traffic, which follows them later. Nothing when no rollout counts it.
export function observedTraffic(status) {
  const o = active(status.rollout) ? status.rollout.observed_traffic : null;
  if (!o) return null;
  const shares = o.shares ?? {};
  const { role, versions } = splitOrder(status, shares);
  return h('div', { class: 'split observed' },
    versions.length > 0 && splitBar(versions, shares, role),
    h('p', { class: 'observed-text' },
      versions.length > 0
        ? ['Observed: ', versions.map((v) => `${v} ${shares[v].toFixed(1)}%`).join(', '), ` of ${o.requests} requests, `, time(o.start), '–', time(o.end)]
        : o.end ? ['Observed: no request counted, ', time(o.start), '–', time(o.end)] : 'Observed: nothing counted yet'),
    holdText(o) && h('p', { class: 'hold' }, holdText(o)));
}

function holdText(o) {
  switch (o.hold) {
    case 'holding': return ['The step holds until its traffic is within ', `${o.tolerance_percent} points`, ' of its weights, until ', time(o.hold_until), ' at most'];
    case 'followed': return ['The traffic followed the weights at ', time(o.hold_ended_at)];
    case 'not_following': return [`The traffic was not within ${o.tolerance_percent} points of the weights by `, time(o.hold_ended_at), ' (max_wait)'];
    case 'unobserved': return ['No request was counted by ', time(o.hold_ended_at), '; the step went on'];
  }
  return null;
}
