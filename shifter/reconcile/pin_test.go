package reconcile_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/images/imagestest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// pinning starts a harness whose endpoint runs images of a registry served
// in the test, on a shifter that pins them, as a real one does; around may
// change its AWS further.
func pinning(t *testing.T, around ...func(reconcile.Cloud) reconcile.Cloud) (*harness, *imagestest.Registry) {
	t.Helper()
	reg := imagestest.Serve(t)
	h := newHarness(t, func(ep *rollout.Endpoint) { ep.Template.Repository = reg.Host + "/web" })
	h.pin(around...)
	return h, reg
}

// pin restarts the shifter pinning images, with around applied to its AWS.
func (h *harness) pin(around ...func(reconcile.Cloud) reconcile.Cloud) {
	h.wrap = func(c reconcile.Cloud) reconcile.Cloud {
		c.Images = images.New(nil)
		for _, f := range around {
			c = f(c)
		}
		return c
	}
	h.kill()
	h.start()
}

// TestCrashBetweenRecordAndCreateKeepsTheDigest: the digest is stored
// before anything is created, and a shifter killed in between creates the
// environment with that digest, not with what the tag names by then.
func TestCrashBetweenRecordAndCreateKeepsTheDigest(t *testing.T) {
	t.Parallel()
	creating := make(chan rollout.Environment, 1)
	h, reg := pinning(t, func(c reconcile.Cloud) reconcile.Cloud {
		c.Backend = stalledCreate{Backend: c.Backend, creating: creating}
		return c
	})
	pinned := reg.Push(t, "web", "v1")
	h.release("v1")
	var env rollout.Environment
	select {
	case env = <-creating:
	case <-time.After(30 * time.Second):
		t.Fatalf("no environment created; last events:\n%s", h.trail(8))
	}
	st := h.state()
	if stored := st.Environment(env.ID); stored == nil || stored.Digest != pinned || env.Digest != pinned {
		t.Fatalf("creating %+v with the stored %+v; want both pinned to %s", env, stored, pinned)
	}

	h.kill()
	moved := reg.Push(t, "web", "v1")
	lookups := reg.Lookups()
	h.pin()
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)

	if n := reg.Lookups() - lookups; n != 0 {
		t.Errorf("the restarted shifter asked the registry %d times; the digest was recorded", n)
	}
	script := h.userData("v1")
	if want := reg.Host + "/web@" + pinned; !strings.Contains(script, want) || strings.Contains(script, moved) {
		t.Errorf("the instances run:\n%s\nwant %s, never the moved tag's %s", script, want, moved)
	}
	if e := h.events(rollout.EventEnvironmentCreating); len(e) != 1 || e[0].Details["digest"] != pinned || !strings.Contains(e[0].Message, pinned) {
		t.Errorf("environment.creating events = %+v, want one naming %s", e, pinned)
	}
	if g := h.groups(); len(g["v1"]) != 1 {
		t.Errorf("groups = %v, want one of v1", g)
	}
	if envs := rollout.DescribeEndpoint(time.Now(), h.ep, h.state()).Environments; len(envs) != 1 || envs[0].Digest != pinned {
		t.Errorf("status environments = %+v, want v1 pinned to %s", envs, pinned)
	}
}

// TestUnresolvedImageWaitsVisiblyAndIsRetried: a tag the registry does not
// have is a condition naming the image and why; nothing is created, never
// the tag run instead; once pushed, the release goes out pinned.
func TestUnresolvedImageWaitsVisiblyAndIsRetried(t *testing.T) {
	t.Parallel()
	h, reg := pinning(t)
	image := reg.Host + "/web:v1"
	reg.Push(t, "web", "v0") // the repository exists; the tag does not
	h.release("v1")
	h.eventually(30*time.Second, "image_unresolved", func() bool {
		c := h.state().Conditions.Get(rollout.ImageUnresolved)
		return c != nil && strings.Contains(c.Message, image) && strings.Contains(c.Message, "MANIFEST_UNKNOWN")
	})
	started := h.events(rollout.EventConditionStarted)
	if len(started) != 1 || started[0].Details["condition"] != string(rollout.ImageUnresolved) || !strings.Contains(started[0].Message, image) {
		t.Errorf("condition.started events = %+v", started)
	}
	lookups := reg.Lookups()
	h.eventually(10*time.Second, "the registry asked again", func() bool { return reg.Lookups() > lookups })
	if g := h.groups(); len(g["v1"]) != 0 {
		t.Fatalf("groups = %v: v1 was created with its image unresolved", g)
	}

	pinned := reg.Push(t, "web", "v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	st := h.state()
	if c := st.Conditions.Get(rollout.ImageUnresolved); c != nil {
		t.Errorf("condition still there: %+v", c)
	}
	if e := st.Environment(st.Production.Stable); e == nil || e.Digest != pinned {
		t.Errorf("stable environment %+v, want pinned to %s", e, pinned)
	}
	// Only this condition counts: a loaded machine may stall moto past the
	// attempt timeout and start (and end) aws_unreachable too.
	ended := 0
	for _, e := range h.events(rollout.EventConditionEnded) {
		if e.Details["condition"] == string(rollout.ImageUnresolved) {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("%s ended %d times, want once", rollout.ImageUnresolved, ended)
	}
}

// TestImageByDigestIsNotResolved: a release that names a digest runs it,
// and the registry is not asked.
func TestImageByDigestIsNotResolved(t *testing.T) {
	t.Parallel()
	h, reg := pinning(t)
	digest := "sha256:" + strings.Repeat("5e", 32)
	r := rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v1", Image: reg.Host + "/web:v1@" + digest}
	if _, err := h.store.PutRelease(h.ctx, r, rollout.RevisionAny); err != nil {
		t.Fatal(err)
	}
	h.rec.Notify("web")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	if n := reg.Lookups(); n != 0 {
		t.Errorf("the registry was asked %d times", n)
	}
	if script := h.userData("v1"); !strings.Contains(script, reg.Host+"/web@"+digest) {
		t.Errorf("the instances run:\n%s\nwant %s@%s", script, reg.Host+"/web", digest)
	}
}

// stalledCreate hands the environment of its first Create to the test and
// never creates anything: the shifter is killed in the middle of it.
type stalledCreate struct {
	reconcile.Backend
	creating chan<- rollout.Environment
}

func (s stalledCreate) Create(ctx context.Context, _ string, env rollout.Environment) error {
	select {
	case s.creating <- env:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// userData returns the boot script of version's launch template.
func (h *harness) userData(version string) string {
	h.t.Helper()
	out, err := h.ec2.DescribeLaunchTemplates(h.ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: awssdk.String("tag:ionroller:version"), Values: []string{version}}},
	})
	if err != nil || len(out.LaunchTemplates) != 1 {
		h.t.Fatalf("launch templates of %s: %v, %v", version, out, err)
	}
	v, err := h.ec2.DescribeLaunchTemplateVersions(h.ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: out.LaunchTemplates[0].LaunchTemplateId, Versions: []string{"$Latest"},
	})
	if err != nil || len(v.LaunchTemplateVersions) != 1 {
		h.t.Fatalf("launch template versions of %s: %v", version, err)
	}
	script, err := base64.StdEncoding.DecodeString(awssdk.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.UserData))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(script)
}
