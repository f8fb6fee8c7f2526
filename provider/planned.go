package provider

import (
	"sync"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// providerData is what a configured provider gives its resources, data
// sources, actions and list resources: the shifter's client, the endpoints
// the run plans to change, and those its refresh read.
type providerData struct {
	client  *client.Client
	planned *plannedEndpoints
	read    *readEndpoints
}

// plannedEndpoints are the endpoints a run plans to change, for the
// releases planned after them in the same run.
//
// Terraform plans a resource after the resources its configuration refers
// to, with one instance of the provider for the whole run. The plan of an
// endpoint notes here the spec its apply would have the shifter store; a
// release that refers to it (endpoint = ionroller_endpoint.web.name) is
// planned after it and plans on that spec rather than on the shifter's: its
// image, its checks, what its apply will do. A release that names its
// endpoint by a literal may be planned first, and then sees the shifter's
// spec, as a release does whose endpoint another configuration manages.
type plannedEndpoints struct {
	mu    sync.Mutex
	specs map[string]plannedEndpoint
}

// plannedEndpoint is an endpoint a run changes: the spec the shifter would
// store, when the plan knows it (known); with values known only after
// apply, or not checked with the shifter, all that is known is that it
// changes.
type plannedEndpoint struct {
	spec  rollout.Endpoint
	known bool
}

func newPlannedEndpoints() *plannedEndpoints {
	return &plannedEndpoints{specs: map[string]plannedEndpoint{}}
}

// plannedFrom returns the planned endpoints a provider gives its resources;
// nil before the provider is configured or without a shifter, which
// plannedEndpoints' methods take as a run that changes no endpoint.
func plannedFrom(data any) *plannedEndpoints {
	if d, ok := data.(*providerData); ok {
		return d.planned
	}
	return nil
}

// note records that the run changes endpoint spec.Name into spec.
func (p *plannedEndpoints) note(spec rollout.Endpoint) {
	p.set(spec.Name, plannedEndpoint{spec: spec, known: true})
}

// changes records that the run changes endpoint name in a way the plan
// does not know.
func (p *plannedEndpoints) changes(name string) { p.set(name, plannedEndpoint{}) }

// forget records that the run leaves endpoint name as it is.
func (p *plannedEndpoints) forget(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.specs, name)
}

// get returns what the run plans for endpoint name; ok is false when it
// does not change it (as far as the plan has gone).
func (p *plannedEndpoints) get(name string) (e plannedEndpoint, ok bool) {
	if p == nil {
		return e, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok = p.specs[name]
	return e, ok
}

func (p *plannedEndpoints) set(name string, e plannedEndpoint) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.specs[name] = e
}

// readEndpoints are the endpoints a run's refresh read from the shifter, for
// the releases refreshed and planned after them in the same run.
//
// A release's default image is its endpoint's repository tagged with its
// version, and its plan warning is foreseen from its endpoint's status. A
// release that refers to its endpoint is refreshed and planned after the
// endpoint's refresh, in the same instance of the provider (each plan, apply
// or import has its own), and takes the endpoint as that refresh read it:
// what the plan shows of the endpoint, without a request per release (a
// plan of 200 endpoints and releases made 200 more: BenchmarkTerraform). A
// release whose endpoint the run does not refresh reads it itself, and what
// the run writes to an endpoint is forgotten: an apply reads it again.
type readEndpoints struct {
	mu    sync.Mutex
	views map[string]rollout.EndpointView
}

func newReadEndpoints() *readEndpoints {
	return &readEndpoints{views: map[string]rollout.EndpointView{}}
}

// readFrom returns the endpoints read by the run of a provider; nil, which
// holds none, before the provider is configured or without a shifter.
func readFrom(data any) *readEndpoints {
	if d, ok := data.(*providerData); ok {
		return d.read
	}
	return nil
}

// note records the view of an endpoint the run read.
func (r *readEndpoints) note(v rollout.EndpointView) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.views[v.Endpoint.Name] = v
}

// forget drops what the run read of endpoint name: the run changes it.
func (r *readEndpoints) forget(name string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.views, name)
}

// get returns endpoint name as the run read it; ok is false when it did not.
func (r *readEndpoints) get(name string) (v rollout.EndpointView, ok bool) {
	if r == nil {
		return v, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok = r.views[name]
	return v, ok
}
