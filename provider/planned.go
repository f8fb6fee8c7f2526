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

func newProviderData(c *client.Client) *providerData {
	return &providerData{client: c, planned: newRunEndpoints[plannedEndpoint](), read: newRunEndpoints[rollout.EndpointView]()}
}

// runEndpoints is what a run knows of endpoints, by name, for the calls
// terraform makes at once; a nil one knows nothing and keeps nothing.
type runEndpoints[V any] struct {
	mu     sync.Mutex
	byName map[string]V
}

func newRunEndpoints[V any]() *runEndpoints[V] {
	return &runEndpoints[V]{byName: map[string]V{}}
}

// get returns what the run knows of endpoint name; ok is false when it
// knows nothing.
func (e *runEndpoints[V]) get(name string) (v V, ok bool) {
	if e == nil {
		return v, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok = e.byName[name]
	return v, ok
}

func (e *runEndpoints[V]) set(name string, v V) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byName[name] = v
}

func (e *runEndpoints[V]) forget(name string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byName, name)
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
// spec, as a release does whose endpoint another configuration manages. An
// endpoint the run leaves as it is, is forgotten.
type plannedEndpoints = runEndpoints[plannedEndpoint]

// plannedEndpoint is an endpoint a run changes: the spec the shifter would
// store, when the plan knows it (known); with values known only after
// apply, or not checked with the shifter, all that is known is that it
// changes (the zero value).
type plannedEndpoint struct {
	spec  rollout.Endpoint
	known bool
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
type readEndpoints = runEndpoints[rollout.EndpointView]

// readFrom returns the endpoints read by the run of a provider; nil, which
// holds none, before the provider is configured or without a shifter.
func readFrom(data any) *readEndpoints {
	if d, ok := data.(*providerData); ok {
		return d.read
	}
	return nil
}
