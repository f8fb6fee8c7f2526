// Package images pins the images environments run to digests
// (reconcile.Images): an ECR image through ECR's API in the endpoint's
// account, any other through its registry's HTTP API (v2), found as docker
// pull finds it (a short name such as nginx:1.27 is on Docker Hub).
package images

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

// ECR is what the resolver asks ECR: the manifest's digest of a tag. It is
// the call a pull makes, so an instance role that may pull may resolve.
type ECR interface {
	BatchGetImage(ctx context.Context, in *ecr.BatchGetImageInput, opts ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
}

// Timeout bounds one resolution: a registry that does not answer holds the
// environment waiting for it, not the rest of the endpoint's pass.
const Timeout = 10 * time.Second

// manifestTypes are the manifests ECR may answer with as they were pushed;
// without them it may convert one, and the digest would not be the pushed
// image's.
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// Resolver resolves image references to digests.
type Resolver struct {
	ecr    ECR
	remote []remote.Option
}

// New returns a resolver that asks ecr for ECR images and registries for
// the others, with the credentials docker would use (the keychain of the
// shifter's user) and opts.
func New(ecr ECR, opts ...remote.Option) *Resolver {
	return &Resolver{ecr: ecr, remote: append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)}
}

// Digest returns the digest image names now. An image given by digest is
// its own answer.
func (r *Resolver) Digest(ctx context.Context, image string) (string, error) {
	if d := rollout.DigestOf(image); d != "" {
		return d, nil
	}
	ref, err := name.NewTag(image)
	if err != nil {
		return "", fmt.Errorf("not an image reference: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if region, registry, ok := userdata.ECRImage(image); ok {
		return r.fromECR(ctx, ref, region, registry)
	}
	return r.fromRegistry(ctx, ref)
}

func (r *Resolver) fromECR(ctx context.Context, ref name.Tag, region, registry string) (string, error) {
	account, _, _ := strings.Cut(registry, ".")
	out, err := r.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId:         aws.String(account),
		RepositoryName:     aws.String(ref.RepositoryStr()),
		ImageIds:           []ecrtypes.ImageIdentifier{{ImageTag: aws.String(ref.TagStr())}},
		AcceptedMediaTypes: manifestTypes,
	}, func(o *ecr.Options) { o.Region = region })
	if err != nil {
		return "", fmt.Errorf("ECR: %w", err)
	}
	if len(out.Failures) > 0 {
		f := out.Failures[0]
		return "", fmt.Errorf("ECR: %s: %s", f.FailureCode, aws.ToString(f.FailureReason))
	}
	if len(out.Images) == 0 || out.Images[0].ImageId == nil {
		return "", errors.New("ECR answered no image")
	}
	return aws.ToString(out.Images[0].ImageId.ImageDigest), nil
}

func (r *Resolver) fromRegistry(ctx context.Context, ref name.Tag) (string, error) {
	opts := append(r.remote, remote.WithContext(ctx))
	d, err := remote.Head(ref, opts...)
	if err == nil {
		return d.Digest.String(), nil
	}
	// A HEAD answer has no body to say why, and a few registries answer
	// HEAD without a digest: a GET does both.
	got, err := remote.Get(ref, opts...)
	if err != nil {
		return "", err
	}
	return got.Digest.String(), nil
}
