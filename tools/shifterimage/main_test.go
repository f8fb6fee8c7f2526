package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// buildFake runs the tool as `make image` does, on a tiny fake binary and certificate bundle.
func buildFake(t *testing.T, dir, out string) (stdout string) {
	t.Helper()
	binary := filepath.Join(dir, "shifter")
	certs := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(binary, []byte("#!fake shifter\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	args := []string{"-binary", binary, "-ca-certs", certs, "-arch", "arm64", "-version", "v1.2.3", "-revision", "0123abc", "-o", out}
	if err := run(args, "1700000000", &buf); err != nil {
		t.Fatalf("shifterimage: %v", err)
	}
	return buf.String()
}

func TestImageFromAFakeBinary(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "image")
	stdout := buildFake(t, dir, out)

	digest := layoutDigest(t, out)
	index, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatalf("reading the layout back: %v", err)
	}
	img, err := index.Image(digest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "digest "+digest.String()) || !strings.Contains(stdout, "compressed layer ") {
		t.Errorf("the output names neither the digest %s nor the sizes:\n%s", digest, stdout)
	}
	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.MediaType != "application/vnd.oci.image.manifest.v1+json" || manifest.Config.MediaType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("media types %q, %q: want OCI's", manifest.MediaType, manifest.Config.MediaType)
	}

	config, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/shifter", "serve", "-config", "/etc/ionroller/shifter.hcl"}; !reflect.DeepEqual(config.Config.Entrypoint, want) {
		t.Errorf("entrypoint %q, want %q", config.Config.Entrypoint, want)
	}
	if config.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (non-root)", config.Config.User)
	}
	if _, ok := config.Config.ExposedPorts["7070/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 7070/tcp", config.Config.ExposedPorts)
	}
	if config.OS != "linux" || config.Architecture != "arm64" {
		t.Errorf("platform %s/%s, want linux/arm64", config.OS, config.Architecture)
	}
	if got := config.Created.Unix(); got != 1700000000 {
		t.Errorf("created at %d, want SOURCE_DATE_EPOCH 1700000000", got)
	}
	for label, want := range map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "0123abc",
		"org.opencontainers.image.source":   "https://github.com/ionroller/terraform-provider-ionroller",
	} {
		if got := config.Config.Labels[label]; got != want {
			t.Errorf("label %s = %q, want %q", label, got, want)
		}
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want one on scratch", len(layers))
	}
	files := layerFiles(t, layers[0])
	for path, want := range map[string]struct {
		mode    int64
		uid     int
		content string // checked when not empty
	}{
		"shifter":                           {0o755, 0, "#!fake shifter\n"},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0, "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"},
		"etc/passwd":                        {0o644, 0, "nonroot:x:65532:65532:"},
		"etc/group":                         {0o644, 0, "nonroot:x:65532:"},
		"etc/ionroller/":                    {0o755, 0, ""},
		"home/nonroot/":                     {0o700, 65532, ""},
		"tmp/":                              {0o1777, 0, ""},
	} {
		got, ok := files[path]
		if !ok {
			t.Errorf("the layer has no %s", path)
			continue
		}
		if got.header.Mode != want.mode || got.header.Uid != want.uid || got.header.ModTime.Unix() != 1700000000 {
			t.Errorf("%s: mode %o uid %d mtime %d, want %o, %d, 1700000000", path, got.header.Mode, got.header.Uid, got.header.ModTime.Unix(), want.mode, want.uid)
		}
		if !strings.Contains(got.content, want.content) {
			t.Errorf("%s holds %q, want %q in it", path, got.content, want.content)
		}
	}
}

func TestTwoBuildsHaveTheSameDigest(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	buildFake(t, dir, first)
	buildFake(t, dir, second)
	if a, b := layoutDigest(t, first), layoutDigest(t, second); a != b {
		t.Errorf("two builds of the same inputs: digests %s and %s", a, b)
	}
}

// layoutDigest is the digest of the one image an OCI layout holds.
func layoutDigest(t *testing.T, dir string) v1.Hash {
	t.Helper()
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading the layout %s: %v", dir, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Manifests) != 1 {
		t.Fatalf("the layout holds %d manifests, want 1", len(manifest.Manifests))
	}
	return manifest.Manifests[0].Digest
}

func TestMissingCACertificatesAreNamed(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "shifter")
	if err := os.WriteFile(binary, []byte("fake"), 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such.crt")
	err := run([]string{"-binary", binary, "-ca-certs", missing, "-o", filepath.Join(dir, "image")}, "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no CA certificates at "+missing) {
		t.Errorf("error %v, want one naming the missing %s", err, missing)
	}
}

type layerFile struct {
	header  *tar.Header
	content string
}

func layerFiles(t *testing.T, layer interface {
	Uncompressed() (io.ReadCloser, error)
}) map[string]layerFile {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("reading the layer: %v", err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[header.Name] = layerFile{header, string(content)}
	}
}
