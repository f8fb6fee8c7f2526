// Package userdata writes the boot script of an EC2 environment's
// instances, its launch template's user data. It is a leaf (the standard
// library only): the ec2 backend renders the script, and rollout measures
// it against EC2's limit, so that the API and the provider refuse at once a
// template EC2 would refuse on every try.
package userdata

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Container is what every instance of an environment runs.
type Container struct {
	Image string
	// Port is published on the instance as the same port.
	Port int
	// Command replaces the image's entrypoint, Args its command; as in
	// Kubernetes, a Command without Args runs without the image's command.
	Command []string
	Args    []string
	// Env are plain environment variables. They travel in the user data,
	// which anyone who can describe the launch template can read.
	Env map[string]string
	// Secrets map variable names to SSM parameter or Secrets Manager ARNs.
	// Only the ARNs travel; the instance resolves them at start with its
	// instance profile.
	Secrets map[string]string
}

// MaxBytes is EC2's limit on user data before base64 encoding.
const MaxBytes = 16 << 10

// TooLargeError is a script longer than MaxBytes.
type TooLargeError struct{ Size int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("user data is %d bytes, more than EC2's %d: fewer or shorter environment variables", e.Size, MaxBytes)
}

// secretsFile holds the resolved secrets on the instance, readable by root
// only; docker reads it with --env-file.
const (
	secretsDir  = "/etc/ionroller"
	secretsFile = secretsDir + "/secrets.env"
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ecrRegistry matches a private ECR registry host, capturing its region.
var ecrRegistry = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// Render returns the boot script of an instance running c: install and
// start docker, log in to ECR when the image is there, resolve the secrets
// into a root-only env file, and run the container, restarted by docker
// whenever it exits or the instance reboots. Every value is shell-quoted;
// no secret value is ever part of the script.
func Render(c Container) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteString(`#!/bin/bash
# Written by the ionroller shifter; the launch template is immutable.
set -euo pipefail
umask 077

install() {
  if command -v dnf >/dev/null; then dnf install -y "$@"
  elif command -v yum >/dev/null; then yum install -y "$@"
  else apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  fi
}
command -v docker >/dev/null || install docker || install docker.io
systemctl enable --now docker
`)
	ecrRegion, registry, fromECR := ECRImage(c.Image)
	if len(c.Secrets) > 0 || fromECR {
		b.WriteString("command -v aws >/dev/null || install awscli\n")
	}
	if fromECR {
		fmt.Fprintf(&b, "aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s\n",
			quote(ecrRegion), quote(registry))
	}

	if len(c.Secrets) > 0 {
		fmt.Fprintf(&b, "\nmkdir -p %s\nsecrets=%s\n: >\"$secrets\"\nchmod 600 \"$secrets\"\n",
			quote(secretsDir), quote(secretsFile))
		// A docker env file holds one VAR=value per line, taken
		// literally: a value with a newline cannot be carried.
		b.WriteString(`secret() {
  if [[ $2 == *$'\n'* ]]; then
    echo "ionroller: secret $1 spans several lines; an env file cannot carry it" >&2
    exit 1
  fi
  printf '%s=%s\n' "$1" "$2" >>"$secrets"
}
`)
		for _, name := range slices.Sorted(maps.Keys(c.Secrets)) {
			fetch, _ := fetchSecret(c.Secrets[name]) // validated above
			// A plain assignment, so that set -e stops the script
			// when the fetch fails.
			fmt.Fprintf(&b, "value=$(%s)\nsecret %s \"$value\"\n", fetch, quote(name))
		}
		b.WriteString("unset value\n")
	}

	// One line per option keeps the script readable in the console.
	run := [][]string{
		{"docker", "run", "--detach", "--name", "app", "--restart", "always"},
		{"--publish", strconv.Itoa(c.Port) + ":" + strconv.Itoa(c.Port)},
	}
	if len(c.Secrets) > 0 {
		run = append(run, []string{"--env-file", secretsFile})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Env)) {
		run = append(run, []string{"--env", name + "=" + c.Env[name]})
	}
	if len(c.Command) > 0 {
		run = append(run, []string{"--entrypoint", c.Command[0]})
	}
	run = append(run, []string{c.Image})
	if len(c.Command) > 1 {
		run = append(run, c.Command[1:])
	}
	if len(c.Args) > 0 {
		run = append(run, c.Args)
	}

	b.WriteString("\n")
	for i, words := range run {
		if i > 0 {
			b.WriteString(" \\\n  ")
		}
		for j, w := range words {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quote(w))
		}
	}
	b.WriteString("\n")

	if b.Len() > MaxBytes {
		return "", &TooLargeError{Size: b.Len()}
	}
	return b.String(), nil
}

func (c Container) validate() error {
	var errs []error
	if c.Image == "" {
		errs = append(errs, errors.New("no image"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("container port %d is not in 1..65535", c.Port))
	}
	if len(c.Command) > 0 && c.Command[0] == "" {
		errs = append(errs, errors.New("command starts with an empty executable"))
	}
	for name := range c.Env {
		if !envName.MatchString(name) {
			errs = append(errs, fmt.Errorf("environment variable name %q is not [A-Za-z_][A-Za-z0-9_]*", name))
		}
		if _, ok := c.Secrets[name]; ok {
			errs = append(errs, fmt.Errorf("%s is both an environment variable and a secret", name))
		}
	}
	for name, ref := range c.Secrets {
		if !envName.MatchString(name) {
			errs = append(errs, fmt.Errorf("secret name %q is not [A-Za-z_][A-Za-z0-9_]*", name))
		}
		if _, err := fetchSecret(ref); err != nil {
			errs = append(errs, fmt.Errorf("secret %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// ECRImage reports whether image is in a private ECR registry, and which:
// the boot script logs in to it, and the shifter pins its images through
// ECR's API.
func ECRImage(image string) (region, registry string, ok bool) {
	registry, _, hasPath := strings.Cut(image, "/")
	m := ecrRegistry.FindStringSubmatch(registry)
	if !hasPath || m == nil {
		return "", "", false
	}
	return m[1], registry, true
}

// fetchSecret returns the aws CLI command that prints the value of the
// secret at ref, an SSM parameter or Secrets Manager secret ARN. The region
// comes from the ARN, so a secret may live in another region than the
// instance.
func fetchSecret(ref string) (string, error) {
	// arn:partition:service:region:account:resource
	parts := strings.SplitN(ref, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", fmt.Errorf("%q is not an ARN", ref)
	}
	service, region, resource := parts[2], parts[3], parts[5]
	switch {
	case service == "ssm" && strings.HasPrefix(resource, "parameter/"):
		return "aws ssm get-parameter --region " + quote(region) + " --with-decryption --name " + quote(ref) +
			" --query Parameter.Value --output text", nil
	case service == "secretsmanager" && strings.HasPrefix(resource, "secret:"):
		return "aws secretsmanager get-secret-value --region " + quote(region) + " --secret-id " + quote(ref) +
			" --query SecretString --output text", nil
	}
	return "", fmt.Errorf("%q is neither an SSM parameter nor a Secrets Manager secret ARN", ref)
}

// quote makes s one shell word whatever it contains, quoting only when
// needed.
func quote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plainWord matches what the shell takes literally without quotes.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)
