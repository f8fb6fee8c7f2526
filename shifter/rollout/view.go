package rollout

// EndpointView is an endpoint as the API serves it: the declared spec and
// the live status.
type EndpointView struct {
	Endpoint Endpoint       `json:"endpoint"`
	Status   EndpointStatus `json:"status"`
}

// ReleaseView is a desired release as the API serves it, with its live state.
type ReleaseView struct {
	Release Release       `json:"release"`
	Status  ReleaseStatus `json:"status"`
}
