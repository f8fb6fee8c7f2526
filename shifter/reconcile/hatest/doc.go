// Package hatest shows invariant 7 (DESIGN §4) against moto: shifter
// replicas sharing a DynamoDB table divide the endpoints with leases, at most
// one acts on an endpoint at a time, and a dead or cut-off replica's
// endpoints move to the others. Its tests drive reconcile.Reconciler, the
// way `shifter serve` wires it, and live in a package of their own so that
// they run beside the reconciler's other tests, each with its own moto.
package hatest
