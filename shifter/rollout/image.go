package rollout

import (
	"regexp"
	"strings"
)

// An environment is immutable, and so is what it runs: its image is pinned
// to a digest once, before the environment is created, and its instances
// pull the image by that digest, so that a tag pushed again later changes
// nothing that runs (nor what a crashed shifter recreates).

// digestPattern is a content digest as registries give them.
var digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// ValidDigest reports whether d is a sha256 content digest.
func ValidDigest(d string) bool { return digestPattern.MatchString(d) }

// DigestOf returns the digest an image reference names (repo@sha256:…),
// or "" when it names a tag.
func DigestOf(image string) string {
	if _, d, ok := strings.Cut(image, "@"); ok && ValidDigest(d) {
		return d
	}
	return ""
}

// PinnedImage returns image by digest: its repository, without a tag, at
// the digest the image names, or else at digest; image as it is when it
// names none and digest is "".
func PinnedImage(image, digest string) string {
	repo, named, _ := strings.Cut(image, "@")
	if ValidDigest(named) {
		digest = named
	}
	if digest == "" {
		return image
	}
	// A tag is the part after the last colon that follows the last slash
	// (a colon before it is a registry's port).
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "@" + digest
}

// Runs returns the image reference the environment's instances pull: by
// digest once pinned, as declared when the shifter runs images as tagged.
func (e *Environment) Runs() string { return PinnedImage(e.Image, e.Digest) }
