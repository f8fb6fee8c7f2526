package rollout

import (
	"cmp"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary JSON to what the API decodes and checks.
// Whatever the input: no panic; a rejection is EINVALID naming a field (or a
// decoding error); an accepted value survives an encode/decode round trip and
// is still valid. `make fuzz` runs each for a bounded time.

func FuzzEndpoint(f *testing.F) {
	ep := testEndpoint()
	ep.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 1}
	ep.Template.Secrets = map[string]string{"DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
	seed, _ := json.Marshal(ep)
	f.Add(seed)
	f.Add([]byte(`{"name":"web","policy":{"steps":[{"weight":10,"pause":"5m"},{"weight":100}]}}`))
	f.Add([]byte(`{"name":"Web","template":{"container_port":-1,"health_check":{"interval":"1s"}}}`))
	f.Add([]byte(`{"policy":{"steps":[{"weight":50},{"weight":50}],"bake_time":"-1s"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ep := NewEndpoint()
		if err := json.Unmarshal(data, &ep); err != nil {
			return // the API answers 400 from the decoder's error
		}
		if err := ep.Validate(); err != nil {
			checkRejection(t, err)
			return
		}
		var again Endpoint
		b, err := json.Marshal(ep)
		if err != nil {
			t.Fatalf("a valid endpoint does not encode: %v", err)
		}
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("a valid endpoint does not decode back: %v\n%s", err, b)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("a valid endpoint is invalid after a round trip: %v\n%s", err, b)
		}
		TemplateHash(again.Template, "web:1", nil)
	})
}

func FuzzRelease(f *testing.F) {
	f.Add([]byte(`{"endpoint":"web","track":"production","version":"1.2.3","image":"registry.example.com/web:1.2.3","env":{"A":"1"}}`))
	f.Add([]byte(`{"endpoint":"web","track":"preview","version":"v1 beta","retry":-1}`))
	f.Add([]byte(`{"endpoint":"web","track":"production","version":"1","image":"127.0.0.1:5000/web:1@sha256:` + strings.Repeat("ab", 32) + `"}`))
	f.Add([]byte(`{"endpoint":"web","track":"production","version":"1","image":"web@sha256:ABC"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Release
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			checkRejection(t, err)
			return
		}
		// What a valid image runs by digest is a valid image too, and
		// names that digest.
		const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		if r.Image != "" {
			pinned := PinnedImage(r.Image, d)
			if ValidateImage(pinned) != nil || DigestOf(pinned) != cmp.Or(DigestOf(r.Image), d) {
				t.Fatalf("%q pinned is %q", r.Image, pinned)
			}
		}
		b, _ := json.Marshal(r)
		var again Release
		if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(normalizeRelease(again), normalizeRelease(r)) {
			t.Fatalf("release does not round-trip: %v\n%s", err, b)
		}
	})
}

func FuzzCommand(f *testing.F) {
	f.Add([]byte(`{"kind":"pause","for":"10m","reason":"lunch"}`))
	f.Add([]byte(`{"kind":"rollback","to":"v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Command
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			checkRejection(t, err)
		}
	})
}

func checkRejection(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Field == "" || e.Message == "" {
		t.Fatalf("rejection %v is not an invalid error naming a field", err)
	}
}

// normalizeRelease makes an empty env map and a nil one compare equal, as
// they do on the wire.
func normalizeRelease(r Release) Release {
	if len(r.Env) == 0 {
		r.Env = nil
	}
	return r
}
