#!/usr/bin/env bash
# terraform114.sh [VERSION]: builds Terraform (1.14.3: the first line with actions) from the Go module proxy, once,
# into a cache outside the clone (it is not packaged for these machines), and prints the path of its binary.
# `go install` refuses the module's replace directives, and the module zip lacks the nested modules they point at
# (the remote-state backends and internal/legacy): building inside a copy of the module without them works
# (../shared/TESTING.md).
set -euo pipefail

version=${1:-1.14.3}
cache=${IONROLLER_CACHE:-$HOME/.cache/ionroller}
bin=$cache/terraform-$version/terraform
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# Outside this module, so that go.mod here is neither read nor changed.
dir=$(cd "$work" && GOFLAGS= go mod download -json "github.com/hashicorp/terraform@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [[ -z $dir ]]; then
	echo "terraform114.sh: the Go module proxy did not give github.com/hashicorp/terraform@v$version" >&2
	exit 1
fi
echo "terraform114.sh: building Terraform $version (about 2-7 minutes on 2 cores)" >&2
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"

# The backends whose nested modules the zip lacks: their imports and their entries in the backends map go.
init=$work/src/internal/backend/init/init.go
for b in azure consul cos gcs kubernetes oci oss pg s3; do
	grep -q "remote-state/$b\"" "$init" || { echo "terraform114.sh: $init no longer imports the $b backend" >&2; exit 1; }
	sed -i "\#\"github.com/hashicorp/terraform/internal/backend/remote-state/$b\"#d" "$init"
done
sed -i -E '/^\t\t"(azurerm|consul|cos|gcs|kubernetes|oss|pg|s3|oci)": +func\(\)/d' "$init"
# ... and the requires and replaces of every internal module go from go.mod.
sed -i -E '\#^(replace )?[[:space:]]*github.com/hashicorp/terraform/internal/#d' "$work/src/go.mod"

mkdir -p "$(dirname "$bin")"
(cd "$work/src" && GOFLAGS= go build -trimpath -ldflags "-X github.com/hashicorp/terraform/version.dev=no" -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
