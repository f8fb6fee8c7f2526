// Package imagestest serves a container registry (the registry HTTP API v2)
// on loopback for tests, to push images to and pin them from. It is the
// registry library's own in-memory registry, so what the shifter speaks to is
// a real registry's protocol, not a fake of it.
package imagestest

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is a registry served for one test.
type Registry struct {
	// Host is its host:port; an image on it is Host + "/repo:tag". A
	// loopback registry is spoken to over plain HTTP, as docker does.
	Host string
	// Refuse, while set, answers every request 401: credentials refused.
	Refuse atomic.Bool
	// lookups counts the manifest requests other than pushes: how
	// often the registry was asked what a tag names.
	lookups atomic.Int64
	srv     *httptest.Server
}

// Serve starts a registry that stops when the test ends.
func Serve(tb testing.TB) *Registry {
	tb.Helper()
	r := &Registry{}
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.Refuse.Load() {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		if strings.Contains(req.URL.Path, "/manifests/") && req.Method != http.MethodPut {
			r.lookups.Add(1)
		}
		handler.ServeHTTP(w, req)
	}))
	tb.Cleanup(r.srv.Close)
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Push pushes a new random image as repo:tag (moving the tag if it was
// there) and returns its digest.
func (r *Registry) Push(tb testing.TB, repo, tag string) string {
	tb.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := name.NewTag(fmt.Sprintf("%s/%s:%s", r.Host, repo, tag))
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(tb.Context())); err != nil {
		tb.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d.String()
}

// Lookups returns how many times the registry was asked for a manifest.
func (r *Registry) Lookups() int64 { return r.lookups.Load() }

// Close stops the registry: it is then unreachable.
func (r *Registry) Close() { r.srv.Close() }
