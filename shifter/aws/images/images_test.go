package images_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images/imagestest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestRegistry resolves tags on a registry served in the test: what the tag
// names now, again after it moved, and why not when it cannot.
func TestRegistry(t *testing.T) {
	t.Parallel()
	reg := imagestest.Serve(t)
	r := images.New(nil)
	image := reg.Host + "/team/app:v1"

	first := reg.Push(t, "team/app", "v1")
	if got, err := r.Digest(t.Context(), image); err != nil || got != first {
		t.Fatalf("Digest(%s) = %q, %v; want %s", image, got, err, first)
	}
	moved := reg.Push(t, "team/app", "v1")
	if got, err := r.Digest(t.Context(), image); err != nil || got != moved {
		t.Fatalf("Digest after the tag moved = %q, %v; want %s", got, err, moved)
	}

	if _, err := r.Digest(t.Context(), reg.Host+"/team/app:v9"); err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Errorf("a tag that does not exist: error %v, want MANIFEST_UNKNOWN", err)
	}
	reg.Refuse.Store(true)
	if _, err := r.Digest(t.Context(), image); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("credentials refused: error %v, want UNAUTHORIZED", err)
	}
	reg.Close()
	if _, err := r.Digest(t.Context(), image); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("registry unreachable: error %v, want connection refused", err)
	}
}

// TestByDigestAsksNobody: an image given by digest is its own answer.
func TestByDigestAsksNobody(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("ab", 32)
	r := images.New(nil, remote.WithTransport(refuse{t}))
	for _, image := range []string{"registry.example.com/app@" + d, "registry.example.com/app:v1@" + d} {
		if got, err := r.Digest(t.Context(), image); err != nil || got != d {
			t.Errorf("Digest(%s) = %q, %v; want %s", image, got, err, d)
		}
	}
}

// TestShortNamesAreOnDockerHub: nginx:1.27 is asked of Docker Hub, as
// docker pull would.
func TestShortNamesAreOnDockerHub(t *testing.T) {
	t.Parallel()
	var hosts []string
	r := images.New(nil, remote.WithTransport(record{&hosts}))
	if _, err := r.Digest(t.Context(), "nginx:1.27"); err == nil {
		t.Fatal("resolved with no registry to ask")
	}
	if len(hosts) == 0 || hosts[0] != "index.docker.io" {
		t.Errorf("asked %v, want index.docker.io", hosts)
	}
}

// TestECR resolves an ECR image through ECR's API in moto: PutImage, then
// the tag, then the tag moved, a tag and a repository that do not exist.
// moto's digest of a manifest is not AWS's (it hashes the layer digests), so
// the manifest's own digest is given with it, as a client that pushes does.
func TestECR(t *testing.T) {
	t.Parallel()
	acct := awstest.NewAccount(t)
	api := ecr.NewFromConfig(acct.Config)
	ctx := t.Context()
	if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")}); err != nil {
		t.Fatal(err)
	}
	push := func(layer string) string {
		t.Helper()
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.docker.distribution.manifest.v2+json",
			"config":        map[string]any{"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:" + strings.Repeat("c", 64)},
			"layers":        []map[string]any{{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2, "digest": layer}},
		})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(manifest)
		out, err := api.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("team/app"), ImageTag: aws.String("v1"),
			ImageManifest: aws.String(string(manifest)), ImageDigest: aws.String("sha256:" + hex.EncodeToString(sum[:]))})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Image.ImageId.ImageDigest)
	}
	// Resolved through the shifter's own clients (scheduled, and recorded for
	// the IAM check), set up through the test's.
	set, err := shifteraws.NewClients(acct.Config, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	r := images.New(set.ECR, remote.WithTransport(refuse{t}))
	registry := acct.ID + ".dkr.ecr.us-east-1.amazonaws.com"

	for _, layer := range []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64)} {
		want := push(layer)
		if got, err := r.Digest(ctx, registry+"/team/app:v1"); err != nil || got != want {
			t.Fatalf("Digest = %q, %v; want %s (what PutImage answered)", got, err, want)
		}
	}
	if _, err := r.Digest(ctx, registry+"/team/app:v9"); err == nil || !strings.Contains(err.Error(), "ImageNotFound") {
		t.Errorf("a tag that does not exist: error %v, want ImageNotFound", err)
	}
	if _, err := r.Digest(ctx, registry+"/team/none:v1"); err == nil || !strings.Contains(err.Error(), "RepositoryNotFound") {
		t.Errorf("a repository that does not exist: error %v, want RepositoryNotFound", err)
	}
}

// refuse fails a test that reaches a registry over HTTP.
type refuse struct{ t *testing.T }

func (r refuse) RoundTrip(req *http.Request) (*http.Response, error) {
	r.t.Errorf("asked %s of a registry", req.URL)
	return nil, errors.New("no registry here")
}

// record notes the hosts asked and answers nothing.
type record struct{ hosts *[]string }

func (r record) RoundTrip(req *http.Request) (*http.Response, error) {
	*r.hosts = append(*r.hosts, req.URL.Host)
	return nil, context.Canceled
}
