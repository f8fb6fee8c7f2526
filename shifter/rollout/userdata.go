package rollout

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

// What a release runs on EC2 is the boot script of its environment's
// instances, and EC2 takes at most userdata.MaxBytes of it. The script is
// measured when a spec or a release is written, by the API and by the
// provider's plan alike, so that what the backend would refuse on every try
// is refused once, naming the field.

// ContainerOf returns what the instances of an environment built from t
// run: image, with the template's variables and env's over them.
func ContainerOf(t Template, image string, env map[string]string) userdata.Container {
	vars := maps.Clone(t.Env)
	if vars == nil {
		vars = make(map[string]string, len(env))
	}
	maps.Copy(vars, env)
	return userdata.Container{
		Image:   image,
		Port:    t.ContainerPort,
		Command: t.Command,
		Args:    t.Args,
		Env:     vars,
		Secrets: t.Secrets,
	}
}

// ValidateOn reports what of the release cannot run on ep, naming the
// release's field: a variable that is one of ep's secrets, or a boot script
// beyond EC2's limit.
func (r *Release) ValidateOn(ep Endpoint) error {
	for _, name := range sortedKeys(r.Env) {
		if _, secret := ep.Template.Secrets[name]; secret {
			return Invalid(fmt.Sprintf("env[%q]", name), "%q is one of endpoint %s's secrets (template.secrets); a variable cannot be both", name, ep.Name)
		}
	}
	return checkUserData("env", "", ep.Template, r.ImageFor(ep), r.Env)
}

// ValidateReleases reports what of the endpoint cannot run the releases
// declared on it, naming the endpoint's field: a secret that a release sets
// as a variable, or a boot script beyond EC2's limit.
func (ep *Endpoint) ValidateReleases(releases []Release) error {
	for _, rel := range releases {
		for _, name := range sortedKeys(ep.Template.Secrets) {
			if _, set := rel.Env[name]; set {
				return Invalid(fmt.Sprintf("template.secrets[%q]", name), "%q is set as a variable by the %s release (env); a variable cannot be both", name, rel.Track)
			}
		}
		if err := checkUserData("template.env", fmt.Sprintf("with the %s release, ", rel.Track), ep.Template, rel.ImageFor(*ep), rel.Env); err != nil {
			return err
		}
	}
	return nil
}

// ValidateUserData reports, naming template.env, a template whose boot
// script is more than EC2 takes with its repository as the image. Each
// release's own image and variables are measured when it is declared.
func (t Template) ValidateUserData() error {
	return checkUserData("template.env", "", t, t.Repository, nil)
}

// checkUserData reports, naming field, a template whose boot script with
// image and env would be more than EC2 takes; with says what else made it.
// The image is measured with a digest added, longer than it runs either by
// tag or pinned (PinnedImage).
func checkUserData(field, with string, t Template, image string, env map[string]string) error {
	if t.Backend == BackendECS {
		return nil // no boot script: the task definition carries the container
	}
	if DigestOf(image) == "" {
		image += "@sha256:" + strings.Repeat("0", 64)
	}
	_, err := userdata.Render(ContainerOf(t, image, env))
	var tooLarge *userdata.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return Invalid(field, "%smakes the instances' boot script %d bytes, more than the %d bytes of user data EC2 takes: "+
			"use fewer or shorter variables, or move large values to secrets (template.secrets), which travel as ARNs", with, tooLarge.Size, userdata.MaxBytes)
	case err != nil:
		return Invalid("template", "cannot run on EC2: %v", err)
	}
	return nil
}
