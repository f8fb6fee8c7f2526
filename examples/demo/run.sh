#!/usr/bin/env bash
# The local demo (`make demo`): offline, from a fresh clone. It starts moto
# (the local AWS) and a shifter, installs the provider the way a user would
# (a filesystem mirror), applies examples/demo with v1, rolls out v2 step by
# step, rolls back to v1 by reverting the version, and shows that a plan has
# nothing left to do. Everything it starts is stopped on exit. BACKEND=ecs
# runs the versions as ECS services instead of Auto Scaling groups.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ionroller-demo.XXXXXX")
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

# free_port prints a TCP port nobody listens on.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_url waits until url answers, for at most 60 seconds; log is the
# output of the process being waited for.
wait_for_url() {
	local url=$1 log=$2
	for _ in $(seq 600); do
		curl -fs -o /dev/null "$url" && return 0
		sleep 0.1
	done
	cat "$log" >&2
	die "$url did not answer within 60s"
}

command -v go >/dev/null || die "go is not on PATH"
# TF: the CLI, terraform or OpenTofu's tofu (make demo-tofu).
TF=${TF:-terraform}
# BACKEND: how the versions run, ec2 (Auto Scaling groups) or ecs (services).
BACKEND=${BACKEND:-ec2}
case $BACKEND in ec2 | ecs) ;; *) die "BACKEND must be ec2 or ecs, not $BACKEND" ;; esac
command -v "$TF" >/dev/null || die "$TF is not on PATH"
command -v moto_server >/dev/null || die "moto_server (moto 5) is not on PATH"

# Terraform: no version checks, the provider only from the local mirror.
version=0.0.1
os_arch=$(go env GOOS)_$(go env GOARCH)
mirror=$work/mirror/registry.terraform.io/ionroller/ionroller/$version/$os_arch
# OpenTofu reads the short source ionroller/ionroller as registry.opentofu.org's.
tofu_mirror=$work/mirror/registry.opentofu.org/ionroller/ionroller/$version/$os_arch
export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_ACC_TERRAFORM_VERSION TF_LOG
cat >"$TF_CLI_CONFIG_FILE" <<CONF
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/ionroller/ionroller", "registry.opentofu.org/ionroller/ionroller"]
  }
  direct {
    exclude = ["registry.terraform.io/ionroller/ionroller", "registry.opentofu.org/ionroller/ionroller"]
  }
}
CONF

say "Building the provider, the shifter and the demo's tools"
mkdir -p "$work/bin" "$mirror"
(cd "$repo" && go build -o "$work/bin/" ./shifter/cmd/shifter ./shifter/aws/awslike/cmd/awslike ./examples/demo/network ./examples/demo/split)
(cd "$repo" && go build -ldflags "-X main.version=$version" -o "$mirror/terraform-provider-ionroller_v$version" .)
mkdir -p "$tofu_mirror" && cp "$mirror/terraform-provider-ionroller_v$version" "$tofu_mirror/"

say "Starting moto (the local AWS) and creating the network the endpoint runs behind"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
moto=http://127.0.0.1:$moto_port
wait_for_url "$moto/moto-api/" "$work/moto.log"
mkdir -p "$work/tf"
"$work/bin/network" -endpoint "$moto" >"$work/tf/network.auto.tfvars.json"
cat "$work/tf/network.auto.tfvars.json"

# The shifter reaches moto through a layer that behaves like AWS where moto
# does not: a target group is health-checked only while a rule forwards to
# it, new targets pass their first checks after interval x threshold, calls
# are budgeted per account and throttled beyond. One AWS second is 20 ms here.
"$work/bin/awslike" -upstream "$moto" -time-scale 0.02 >"$work/awslike.url" 2>"$work/awslike.log" &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$work/awslike.url" ] && break
	sleep 0.1
done
aws=$(head -n1 "$work/awslike.url")
[ -n "$aws" ] || die "awslike did not start: $(cat "$work/awslike.log")"

say "Starting the shifter (temporary store, anonymous admin: a demo only)"
shifter_port=$(free_port)
shifter=http://127.0.0.1:$shifter_port
cat >"$work/shifter.hcl" <<CONF
listen          = "127.0.0.1:$shifter_port"
poll_interval   = "100ms"
resync_interval = "1s"

store {
  path = "$work/shifter.db"
}

aws {
  region   = "us-east-1"
  endpoint = "$aws"
}

# No registry serves the demo's images (it runs offline): run them as
# tagged. A real shifter pins each environment's image to a digest.
images {
  pin = false
}

auth {
  anonymous {
    role = "admin"
  }
}

log {
  level = "warn"
}
CONF
"$work/bin/shifter" serve -config "$work/shifter.hcl" >"$work/shifter.log" 2>&1 &
pids+=($!)
wait_for_url "$shifter/readyz" "$work/shifter.log"
echo "shifter at $shifter"

# The configuration, as a repository would hold it; release.auto.tfvars is
# the line a deploy commit changes.
cp "$repo/examples/demo/main.tf" "$work/tf/"
printf 'shifter_address = "%s"\nbackend         = "%s"\n' "$shifter" "$BACKEND" >"$work/tf/shifter.auto.tfvars"
release() { echo "release = \"$1\"" >"$work/tf/release.auto.tfvars"; }
# tf runs a terraform command in the configuration's directory; options
# go before any positional argument (a saved plan).
tf() { "$TF" -chdir="$work/tf" "$1" -input=false -no-color "${@:2}"; }

say "terraform init (the provider comes from the local mirror)"
tf init >"$work/init.log" || {
	cat "$work/init.log" >&2
	die "$TF init failed"
}
grep -i "installed ionroller" "$work/init.log" || true

say "Release v1: terraform apply"
release v1
tf apply -auto-approve | grep -E '^(ionroller_|Apply complete)'
"$work/bin/split" -addr "$shifter" -endpoint demo -once

say "Release v2: terraform apply, while the traffic moves step by step"
release v2
tf apply -auto-approve >"$work/apply-v2.log" 2>&1 &
apply=$!
pids+=("$apply")
"$work/bin/split" -addr "$shifter" -endpoint demo -version v2
wait "$apply" || {
	cat "$work/apply-v2.log" >&2
	die "$TF apply of v2 failed"
}
grep -E '^(ionroller_|Apply complete)' "$work/apply-v2.log"

say "Rollback: revert the version to v1 and apply"
release v1
tf plan -out="$work/rollback.plan" | grep -E '^\s+[~+-] |^Plan:'
start=$EPOCHREALTIME
tf apply "$work/rollback.plan" | grep -E '^(ionroller_|Apply complete)'
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
"$work/bin/split" -addr "$shifter" -endpoint demo -once
echo "rolled back to v1 in ${elapsed}s (terraform apply, from the saved plan)"

say "terraform plan -detailed-exitcode: nothing left to do"
status=0
tf plan -detailed-exitcode >"$work/plan.log" || status=$?
case $status in
0) grep -E '^No changes' "$work/plan.log" ;;
2)
	cat "$work/plan.log" >&2
	die "the plan after the rollback is not empty"
	;;
*)
	cat "$work/plan.log" >&2
	die "$TF plan failed"
	;;
esac

say "The endpoint's trail (shifter events demo)"
"$work/bin/shifter" events -addr "$shifter" demo

say "Demo complete: v1 -> v2 in steps, back to v1 in ${elapsed}s, and nothing left to plan"
