// Package crashtest holds the crash trials of invariant 6 (DESIGN §4): a
// shifter killed at any point converges on restart without a second shift,
// a lost step, a duplicate environment or an orphan.
//
// Each trial runs the real `shifter serve` binary on a bolt file against
// moto, declares releases through the API, SIGKILLs the process at a moment
// drawn from the trial's seed while it creates environments and while it
// shifts traffic, restarts it on the same file, and checks what a person
// would: every rollout completes; the listener rules, sampled all along,
// always summed to 100 over the endpoint's own target groups and never sent
// traffic to an environment without healthy targets; each endpoint's rule
// went through its steps once each, in order; the event trail has each step
// once; and every AWS resource tagged as the shifter's belongs to an
// environment the store records.
//
// `go test ./shifter/crashtest` runs a few trials; `make crash` runs
// CRASH_TRIALS of them (30 by default) within CRASH_TIMEOUT, and fails if
// fewer ran to the end. CRASH_SEED replays a run; SHIFTER_BIN tests a
// binary built elsewhere.
package crashtest
