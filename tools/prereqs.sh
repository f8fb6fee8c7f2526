#!/usr/bin/env bash
# The machine `make test` needs, checked or installed: Go, terraform and moto_server come with the machine (PyPI
# and the terraform releases are not reachable); Chromium, for the web UI's browser test, comes from Debian's apt;
# the pinned Go tools (gotestsum, tfplugindocs) go into bin/tools. Exits non-zero, naming what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD

die() {
	echo "prereqs: $*" >&2
	exit 1
}

command -v go >/dev/null || die "go is not on PATH (the machines have it at /usr/local/go/bin)"
command -v terraform >/dev/null ||
	die "terraform is not on PATH: the provider's tests and 'make generate' need terraform 1.11 or later"
command -v moto_server >/dev/null ||
	die "moto_server is not on PATH: the AWS tests need moto 5 (pip install 'moto[server]')"

# moto_server has no --version: ask the Python interpreter its script runs with. The shebang may be several
# words ("/usr/bin/env python3"), hence unquoted.
moto_script=$(pyenv which moto_server 2>/dev/null || command -v moto_server)
moto_python=$(sed -n '1s/^#![[:space:]]*//p' "$moto_script")
moto_version=$($moto_python -c 'import moto; print(moto.__version__)') ||
	die "moto_server is on PATH but moto does not import ($moto_script)"

if [ ! -x /usr/bin/chromium ]; then
	echo "prereqs: installing chromium from apt for the web UI's browser test (shifter/api/ui)"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	{ $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium; } ||
		die "apt-get could not install chromium; the web UI's browser test needs /usr/bin/chromium"
	[ -x /usr/bin/chromium ] || die "apt-get installed chromium, but /usr/bin/chromium is not there"
fi
# Its launcher warns about /dev/shm on every start; a failure to start still shows.
chromium_version=$(/usr/bin/chromium --version 2>/dev/null) ||
	die "/usr/bin/chromium --version failed: $(/usr/bin/chromium --version 2>&1)"

# tfplugindocs is pinned in go.mod (tools/tools.go); gotestsum's version is the GNUmakefile's.
GOBIN="$repo/bin/tools" go install github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs
GOBIN="$repo/bin/tools" go install "gotest.tools/gotestsum@${GOTESTSUM_VERSION:?set by the GNUmakefile}"

echo "prereqs: $(go version | cut -d' ' -f3), $(terraform version | head -1), moto $moto_version, $chromium_version"
