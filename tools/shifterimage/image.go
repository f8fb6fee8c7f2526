package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed facts: where the shifter reads its configuration (mount it there: a volume, a secret, an
// init container), the port the examples listen on, and the distroless "nonroot" user.
const (
	configPath  = "/etc/ionroller/shifter.hcl"
	shifterPort = "7070/tcp"
	nonrootUID  = 65532
	caCertsPath = "etc/ssl/certs/ca-certificates.crt"
)

var entrypoint = []string{"/shifter", "serve", "-config", configPath}

type imageSpec struct {
	binaryPath  string
	caCertsPath string
	arch        string
	version     string
	revision    string
	source      string
	created     time.Time
}

// build makes the image: one layer on scratch, its config naming the entrypoint, user, port and labels.
func build(spec imageSpec) (v1.Image, error) {
	if spec.arch != "amd64" && spec.arch != "arm64" {
		return nil, fmt.Errorf("-arch %q: the image is built for amd64 or arm64", spec.arch)
	}
	binary, err := os.ReadFile(spec.binaryPath)
	if err != nil {
		return nil, fmt.Errorf("reading the shifter binary: %w", err)
	}
	caCerts, err := os.ReadFile(spec.caCertsPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no CA certificates at %s: the shifter needs them for TLS to AWS (Debian: apt-get install ca-certificates, or pass -ca-certs)", spec.caCertsPath)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CA certificates: %w", err)
	}

	layerTar, err := rootFS(binary, caCerts, spec.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("compressing the layer: %w", err)
	}

	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: spec.created},
			CreatedBy: "tools/shifterimage",
			Comment:   "the shifter, CA certificates and the nonroot user",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	configFile, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	configFile = configFile.DeepCopy()
	configFile.OS = "linux"
	configFile.Architecture = spec.arch
	configFile.Created = v1.Time{Time: spec.created}
	configFile.Config = v1.Config{
		Entrypoint:   entrypoint,
		User:         fmt.Sprintf("%d:%d", nonrootUID, nonrootUID),
		WorkingDir:   "/",
		ExposedPorts: map[string]struct{}{shifterPort: {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "ionroller shifter",
			"org.opencontainers.image.source":      spec.source,
			"org.opencontainers.image.version":     spec.version,
			"org.opencontainers.image.revision":    spec.revision,
			"org.opencontainers.image.created":     spec.created.Format(time.RFC3339),
			"org.opencontainers.image.licenses":    "MPL-2.0",
			"org.opencontainers.image.description": "The ionroller shifter: releases Docker services on AWS by shifting traffic",
		},
	}
	return mutate.ConfigFile(img, configFile)
}

// rootFS is the layer's tar: every entry owned by root (the nonroot user only runs the binary), every time the
// build's, so that the same inputs give the same bytes.
func rootFS(binary, caCerts []byte, modTime time.Time) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonrootUID, nonrootUID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonrootUID)
	entries := []struct {
		path string
		mode int64
		data []byte // nil for a directory
	}{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, []byte(group)},
		{"etc/ionroller/", 0o755, nil},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"etc/ssl/", 0o755, nil},
		{"etc/ssl/certs/", 0o755, nil},
		{caCertsPath, 0o644, caCerts},
		{"home/", 0o755, nil},
		{"home/nonroot/", 0o700, nil},
		{"shifter", 0o755, binary},
		// The shifter writes nothing to disk on the DynamoDB store; /tmp is there for anything that must.
		{"tmp/", 0o1777, nil},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		header := &tar.Header{Name: e.path, Mode: e.mode, ModTime: modTime, Format: tar.FormatPAX}
		if e.data == nil {
			header.Typeflag = tar.TypeDir
		} else {
			header.Typeflag = tar.TypeReg
			header.Size = int64(len(e.data))
		}
		if e.path == "home/nonroot/" {
			header.Uid, header.Gid = nonrootUID, nonrootUID
		}
		if err := tw.WriteHeader(header); err != nil {
			return nil, fmt.Errorf("writing %s to the layer: %w", e.path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("writing %s to the layer: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the layer: %w", err)
	}
	return buf.Bytes(), nil
}

// writeLayout writes the image as an OCI image layout directory. Unlike `docker save`'s format, a layout keeps
// the manifest as built, so the digest printed here is the one a registry shows after `crane push DIR REPO` or
// `skopeo copy oci:DIR docker://REPO`; `tar -cf image.tar -C DIR .` makes an archive `docker load` (Docker 25 or
// later) accepts. The directory is written anew so that its index names this image only.
func writeLayout(img v1.Image, tag, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", tag, err)
	}
	// The annotations name the image for `docker load` (the full name) and for skopeo's oci:DIR:TAG (the tag).
	if err := path.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          ref.String(),
		"org.opencontainers.image.ref.name": ref.TagStr(),
	})); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	return nil
}

// report prints what a release note and a push need: the digest a registry will show, the layer's compressed
// size (what a pull downloads) and its uncompressed size (what the image takes on disk).
func report(img v1.Image, dir string, stdout io.Writer) error {
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var compressed, uncompressed int64
	for _, layer := range layers {
		size, err := layer.Size()
		if err != nil {
			return err
		}
		compressed += size
		rc, err := layer.Uncompressed()
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
		uncompressed += n
	}
	_, err = fmt.Fprintf(stdout, "%s\ndigest %s\ncompressed layer %s (%d bytes), uncompressed %s (%d bytes)\n",
		dir, digest, mebibytes(compressed), compressed, mebibytes(uncompressed), uncompressed)
	return err
}

func mebibytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
