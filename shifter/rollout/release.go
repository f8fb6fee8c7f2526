package rollout

import "time"

// Track is the kind of route a release is for.
type Track string

const (
	// Production gets the endpoint's traffic.
	Production Track = "production"
	// Preview gets only the preview route: testing in production without
	// production traffic.
	Preview Track = "preview"
)

// Tracks lists every track, production first.
var Tracks = []Track{Production, Preview}

// Valid reports whether t is a known track.
func (t Track) Valid() bool { return t == Production || t == Preview }

// Release is the version a team wants live on a track of an endpoint.
type Release struct {
	Endpoint string `json:"endpoint"`
	Track    Track  `json:"track"`
	Version  string `json:"version"`
	// Image defaults to the endpoint's repository tagged with the version.
	Image string            `json:"image,omitempty"`
	Env   map[string]string `json:"env,omitempty"`
	// Retry starts a new rollout of a release that ended rolled back,
	// aborted or failed when it is raised; re-declaring the same release
	// never does.
	Retry int `json:"retry"`
	// Retired, on the preview track, takes the preview down while the
	// release stays declared: its route goes and its environment expires,
	// as when the release is removed.
	Retired   bool      `json:"retired,omitempty"`
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ImageFor returns the image the release runs on the endpoint.
func (r Release) ImageFor(ep Endpoint) string {
	if r.Image != "" {
		return r.Image
	}
	return ep.Template.Repository + ":" + r.Version
}

// Key identifies what a release asks for: a version built from a template,
// and the retry counter.
type Key struct {
	Version      string `json:"version"`
	TemplateHash string `json:"template_hash"`
	Retry        int    `json:"retry"`
}

// runBy reports whether an environment of version, built from a template
// with templateHash, runs what k asks for: the retry counter is no part of it.
func (k Key) runBy(version, templateHash string) bool {
	return k.Version == version && k.TemplateHash == templateHash
}

// KeyOf returns the key of release r on endpoint ep.
func KeyOf(ep Endpoint, r Release) Key {
	return Key{
		Version:      r.Version,
		TemplateHash: TemplateHash(ep.Template, r.ImageFor(ep), r.Env),
		Retry:        r.Retry,
	}
}
