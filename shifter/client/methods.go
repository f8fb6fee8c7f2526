package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Every write takes the revision it expects, as the store does: a revision
// read earlier (If-Match), rollout.RevisionNew to create only, or
// rollout.RevisionAny to skip the check. A stale revision is an ECONFLICT
// error.

// ListEndpoints returns the endpoints the token may see, of team only
// unless team is "".
func (c *Client) ListEndpoints(ctx context.Context, team string) ([]rollout.EndpointView, error) {
	r := request{method: http.MethodGet, path: []string{"endpoints"}}
	if team != "" {
		r.query = url.Values{"team": {team}}
	}
	var list wire.EndpointList
	if err := c.call(ctx, r, &list); err != nil {
		return nil, err
	}
	return list.Endpoints, nil
}

// Replicas returns the shifter replica that answers and the live replicas
// with the leases they hold on endpoints the token may see.
func (c *Client) Replicas(ctx context.Context) (wire.ReplicasView, error) {
	var v wire.ReplicasView
	err := c.call(ctx, request{method: http.MethodGet, path: []string{"replicas"}}, &v)
	return v, err
}

// GetEndpoint returns an endpoint's spec and live status.
func (c *Client) GetEndpoint(ctx context.Context, name string) (rollout.EndpointView, error) {
	var v rollout.EndpointView
	err := c.call(ctx, request{method: http.MethodGet, path: []string{"endpoints", name}}, &v)
	return v, err
}

// PutEndpoint creates or replaces the spec of ep.Name. The fields the
// shifter owns (revision, times, deleting) are ignored, so a spec read back
// may be sent again.
func (c *Client) PutEndpoint(ctx context.Context, ep rollout.Endpoint, revision int64) (rollout.EndpointView, error) {
	var v rollout.EndpointView
	err := c.call(ctx, request{
		method: http.MethodPut,
		path:   []string{"endpoints", ep.Name},
		header: wire.Preconditions(revision),
		body:   ep,
	}, &v)
	return v, err
}

// CheckEndpoint asks the shifter whether it would accept ep as PUT would,
// checks against the endpoint's AWS account included, without storing it.
// It returns the spec as the shifter would store it (its secrets redacted),
// or an EINVALID error naming the field.
func (c *Client) CheckEndpoint(ctx context.Context, ep rollout.Endpoint) (rollout.Endpoint, error) {
	var v rollout.EndpointView
	err := c.call(ctx, request{
		method: http.MethodPut,
		path:   []string{"endpoints", ep.Name},
		query:  url.Values{"dry_run": {"true"}},
		body:   ep,
	}, &v)
	return v.Endpoint, err
}

// DeleteEndpoint asks the shifter to tear an endpoint down and returns it
// as it is while that happens (status "deleting"); GetEndpoint reports
// ENOTFOUND once it is gone. It is ECONFLICT while deletion protection is
// on, with ErrorField "deletion_protection".
func (c *Client) DeleteEndpoint(ctx context.Context, name string, revision int64) (rollout.EndpointView, error) {
	var v rollout.EndpointView
	err := c.call(ctx, request{
		method: http.MethodDelete,
		path:   []string{"endpoints", name},
		header: wire.Preconditions(revision),
	}, &v)
	return v, err
}

// PutRelease declares r.Version on track r.Track of endpoint r.Endpoint.
func (c *Client) PutRelease(ctx context.Context, r rollout.Release, revision int64) (rollout.ReleaseView, error) {
	var v rollout.ReleaseView
	err := c.call(ctx, request{
		method: http.MethodPut,
		path:   releasePath(r.Endpoint, r.Track),
		header: wire.Preconditions(revision),
		body:   r,
	}, &v)
	return v, err
}

// GetRelease returns the release declared on a track with its live state.
func (c *Client) GetRelease(ctx context.Context, endpoint string, track rollout.Track) (rollout.ReleaseView, error) {
	var v rollout.ReleaseView
	err := c.call(ctx, request{method: http.MethodGet, path: releasePath(endpoint, track)}, &v)
	return v, err
}

// ReleaseURL is where GetRelease reads a release: a person can follow it
// there too.
func (c *Client) ReleaseURL(endpoint string, track rollout.Track) string {
	return c.url(releasePath(endpoint, track)).String()
}

// DeleteRelease stops declaring a track's release; traffic stays on what is
// live.
func (c *Client) DeleteRelease(ctx context.Context, endpoint string, track rollout.Track, revision int64) error {
	return c.call(ctx, request{
		method: http.MethodDelete,
		path:   releasePath(endpoint, track),
		header: wire.Preconditions(revision),
	}, nil)
}

// Act queues command cmd (its Kind, For, To and Reason) for the endpoint's
// rollout and returns it as queued, with its sequence, actor and time.
func (c *Client) Act(ctx context.Context, endpoint string, cmd rollout.Command, opts ...ActOption) (rollout.Command, error) {
	r := request{
		method: http.MethodPost,
		path:   []string{"endpoints", endpoint, "actions", string(cmd.Kind)},
	}
	body := wire.ActionRequest{For: cmd.For, To: cmd.To, Reason: cmd.Reason}
	for _, opt := range opts {
		opt(&r, &body)
	}
	r.body = body
	var queued rollout.Command
	err := c.call(ctx, r, &queued)
	return queued, err
}

// ActOption changes what Act asks.
type ActOption func(*request, *wire.ActionRequest)

// Via says what runs the command (wire.ViaTerraformAction): its actor in the
// trail says so.
func Via(via string) ActOption {
	return func(_ *request, body *wire.ActionRequest) { body.Via = via }
}

// DryRun asks whether the shifter would queue the command, without queuing
// it: Act returns the command as it would be queued (sequence 0), or the
// shifter's refusal (ENOTFOUND, ECONFLICT when it cannot apply).
func DryRun() ActOption {
	return func(r *request, _ *wire.ActionRequest) { r.query = url.Values{"dry_run": {"true"}} }
}

// Events returns up to limit events of the endpoint's trail after sequence
// after (limit 0: the server's default), and the sequence to read on from.
func (c *Client) Events(ctx context.Context, endpoint string, after int64, limit int) ([]rollout.Event, int64, error) {
	q := url.Values{"after": {seqString(after)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page wire.EventPage
	if err := c.call(ctx, request{method: http.MethodGet, path: []string{"endpoints", endpoint, "events"}, query: q}, &page); err != nil {
		return nil, after, err
	}
	return page.Events, page.Next, nil
}

// SpecRevisions returns a page of the endpoint's spec history, oldest
// first: revisions from to to (0: the latest), at most limit (0: the API's
// default), each with what changed from the one it replaced; and the
// revision the next page starts at (0 on the last page).
func (c *Client) SpecRevisions(ctx context.Context, endpoint string, from, to int64, limit int) ([]wire.SpecRevisionView, int64, error) {
	q := url.Values{"from": {strconv.FormatInt(max(from, 1), 10)}, "to": {strconv.FormatInt(to, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page wire.SpecRevisionPage
	if err := c.call(ctx, request{method: http.MethodGet, path: []string{"endpoints", endpoint, "revisions"}, query: q}, &page); err != nil {
		return nil, 0, err
	}
	return page.Revisions, page.Next, nil
}

// DiffSpec returns revision to of the endpoint's spec with what changed
// since revision from (either may be the older): `shifter diff`.
func (c *Client) DiffSpec(ctx context.Context, endpoint string, from, to int64) (wire.SpecRevisionView, error) {
	var v wire.SpecRevisionView
	err := c.call(ctx, request{
		method: http.MethodGet,
		path:   []string{"endpoints", endpoint, "revisions", strconv.FormatInt(to, 10)},
		query:  url.Values{"against": {strconv.FormatInt(from, 10)}},
	}, &v)
	return v, err
}

func releasePath(endpoint string, track rollout.Track) []string {
	return []string{"endpoints", endpoint, "releases", string(track)}
}

// Backup writes a consistent copy of the shifter's store file to w while
// it serves, and returns the bytes written. It needs an admin token of no
// team, and is not bounded by the client's timeout: a store may be large.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	req, err := c.newRequest(ctx, request{method: http.MethodGet, path: []string{"store", "backup"}})
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return 0, responseError(req, resp)
	}
	return io.Copy(w, resp.Body)
}
