#!/usr/bin/env bash
# opentofu.sh [VERSION]: builds OpenTofu from the Go module proxy, once, into a cache outside the clone (it is not
# packaged for these machines), and prints the path of its tofu binary. `go install` refuses the module's replace
# directives; building inside a copy of the module keeps them (../shared/TESTING.md).
set -euo pipefail

version=${1:-1.12.6}
cache=${IONROLLER_CACHE:-$HOME/.cache/ionroller}
bin=$cache/opentofu-$version/tofu
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# Outside this module, so that go.mod here is neither read nor changed.
dir=$(cd "$work" && GOFLAGS= go mod download -json "github.com/opentofu/opentofu@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [[ -z $dir ]]; then
	echo "opentofu.sh: the Go module proxy did not give github.com/opentofu/opentofu@v$version" >&2
	exit 1
fi
echo "opentofu.sh: building OpenTofu $version (about 3.5 minutes on 2 cores)" >&2
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$(dirname "$bin")"
(cd "$work/src" && GOFLAGS= go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin.tmp" ./cmd/tofu)
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
