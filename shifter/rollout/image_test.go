package rollout

import (
	"strings"
	"testing"
)

func TestPinnedImage(t *testing.T) {
	const d = testDigest
	for image, want := range map[string]string{
		"nginx:1.27":                 "nginx@" + d,
		"nginx":                      "nginx@" + d,
		"127.0.0.1:5000/team/web:v1": "127.0.0.1:5000/team/web@" + d,
		"127.0.0.1:5000/team/web":    "127.0.0.1:5000/team/web@" + d,
	} {
		if got := PinnedImage(image, d); got != want {
			t.Errorf("PinnedImage(%q) = %q, want %q", image, got, want)
		}
	}
	other := "sha256:" + strings.Repeat("f", 64)
	if got := PinnedImage("web:v1@"+other, d); got != "web@"+other {
		t.Errorf("an image by digest pinned = %q, want its own digest", got)
	}
	if got := PinnedImage("web:v1", ""); got != "web:v1" {
		t.Errorf("no digest: %q, want the image as it is", got)
	}
}
