package reconcile

import (
	"context"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// historyEvery is how often the spec history of an endpoint at rest is
// looked at for revisions past their age; a new revision is looked at once
// it is written.
const historyEvery = time.Hour

// expireHistory lets go the revisions of the endpoint's spec that
// Config.History no longer keeps. The actor does it, after storing the
// state, because it is the one writer of the state: every environment
// recorded so far is in st, and every one recorded later is built from the
// revision its pass loads, which is at least the current one now (the
// store never deletes its current revision). So the revision of a live or
// hot environment is never expired. A failure is logged and left to the
// next time: history is not worth failing a pass for.
func (a *actor) expireHistory(ctx context.Context, ep rollout.Endpoint, st rollout.State) {
	cfg := a.r.cfg
	now := cfg.Now()
	if cfg.History == (rollout.Retention{}) || (ep.Revision == a.historyRevision && now.Sub(a.historyAt) < historyEvery) {
		return
	}
	a.historyRevision, a.historyAt = ep.Revision, now
	revs, err := cfg.Store.ListSpecRevisions(ctx, ep.Name, 0, ep.Revision, 0)
	if err != nil {
		a.logger.Warn("could not read the spec history to expire it", "error", err)
		return
	}
	expired := cfg.History.Expired(now, revs, ep.Revision, st)
	if len(expired) == 0 {
		return
	}
	if err := a.mayAct(); err != nil {
		return // the lease may be gone: the next holder expires them
	}
	if err := cfg.Store.DeleteSpecRevisions(ctx, ep.Name, expired...); err != nil {
		a.logger.Warn("could not expire spec revisions", "revisions", expired, "error", err)
		return
	}
	a.logger.Info("spec revisions expired", "revisions", expired, "kept", len(revs)-len(expired))
}
