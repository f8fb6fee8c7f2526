// Command shifterimage builds the shifter's container image without a Docker daemon and without fetching
// anything: a static linux shifter binary, the build machine's CA certificates and a non-root user in one layer
// on an empty (scratch) base. It writes an OCI image layout directory and prints the image's digest and sizes.
//
// The build is reproducible: every timestamp is SOURCE_DATE_EPOCH (0 when unset), so the same binary, labels and
// certificates give the same digest.
//
//	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o bin/linux_amd64/shifter ./shifter/cmd/shifter
//	go run ./tools/shifterimage -binary bin/linux_amd64/shifter -arch amd64 -version v1.2.3 -o bin/shifter-image_amd64
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Getenv("SOURCE_DATE_EPOCH"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shifterimage:", err)
		os.Exit(1)
	}
}

func run(args []string, sourceDateEpoch string, stdout io.Writer) error {
	fs := flag.NewFlagSet("shifterimage", flag.ContinueOnError)
	var spec imageSpec
	var out, tag string
	fs.StringVar(&spec.binaryPath, "binary", "", "the static linux shifter binary (CGO_ENABLED=0)")
	fs.StringVar(&spec.caCertsPath, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the PEM bundle of CA certificates the shifter trusts for TLS to AWS")
	fs.StringVar(&spec.arch, "arch", "amd64", "the binary's GOARCH: amd64 or arm64")
	fs.StringVar(&spec.version, "version", "dev", "the org.opencontainers.image.version label")
	fs.StringVar(&spec.revision, "revision", "", "the org.opencontainers.image.revision label: the commit")
	fs.StringVar(&spec.source, "source", "https://github.com/ionroller/terraform-provider-ionroller", "the org.opencontainers.image.source label")
	fs.StringVar(&out, "o", "", "the OCI image layout directory to write (replaced)")
	fs.StringVar(&tag, "tag", "ionroller/shifter:dev", "the name `docker load` and skopeo give the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if spec.binaryPath == "" || out == "" {
		return fmt.Errorf("-binary and -o are required")
	}
	created, err := parseSourceDateEpoch(sourceDateEpoch)
	if err != nil {
		return err
	}
	spec.created = created

	img, err := build(spec)
	if err != nil {
		return err
	}
	if err := writeLayout(img, tag, out); err != nil {
		return err
	}
	return report(img, out, stdout)
}

// parseSourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org): the time every file and the image
// claim to be from.
func parseSourceDateEpoch(value string) (time.Time, error) {
	if value == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	seconds, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds: %w", value, err)
	}
	return time.Unix(seconds, 0).UTC(), nil
}
