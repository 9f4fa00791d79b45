#!/usr/bin/env bash
# Times vboctl at scale against the emulator (release build, HTTPS, on loopback).
#
#   bench/run.sh [MANIFESTS] [SEEDED] [PARALLELISM...]
#   BENCH_LATENCY=20..40 bench/run.sh 2000 3000 1 10 32
#
# Generates MANIFESTS organizations (a third of each type, 100 per file), starts an emulator
# holding SEEDED other organizations, and times: validate; plan (MANIFESTS to create);
# apply at each PARALLELISM on a fresh emulator; plan again (nothing to do).
# Results are printed as a Markdown table; docs/benchmarks.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."

manifests=${1:-2000}
seeded=${2:-3000}
shift $(( $# > 2 ? 2 : $# ))
parallelism=("${@:-10}")
[ ${#parallelism[@]} -gt 0 ] || parallelism=(10)
port=${BENCH_PORT:-24443}
# Per-request latency of the emulator, in milliseconds (MS or MS..MS), to model a real server.
latency=${BENCH_LATENCY:-}
vboctl=${VBOCTL:-target/release/vboctl}

[ -x "$vboctl" ] || cargo build --release -p vboctl

work=$(mktemp -d)
emulator_pid=
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/manifests"
for ((i = 0; i < manifests; i++)); do
    file="$work/manifests/tenants-$(printf %03d $((i / 100))).yaml"
    name="bench-$(printf %05d "$i")"
    case $((i % 3)) in
    0) printf -- '---\napiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: %s.onmicrosoft.com}\nspec:\n  type: Office365\n  isExchangeOnline: true\n  exchangeOnlineSettings: {account: admin@%s.onmicrosoft.com, password: {fromEnv: BENCH_PASSWORD}}\n' "$name" "$name" ;;
    1) printf -- '---\napiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: %s.local}\nspec:\n  type: OnPremises\n  isExchange: true\n  exchangeSettings: {serverName: mail.%s.local, username: DOM\\\\backup, password: {fromEnv: BENCH_PASSWORD}, useSSL: true}\n' "$name" "$name" ;;
    2) printf -- '---\napiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: %s.hybrid}\nspec:\n  type: Hybrid\n  office365Settings: {username: admin@%s.onmicrosoft.com, password: {fromEnv: BENCH_PASSWORD}}\n  isSharePoint: true\n  sharePointSettings: {serverName: sp.%s.local, username: DOM\\\\backup, password: {fromEnv: BENCH_PASSWORD}, useSSL: true}\n' "$name" "$name" "$name" ;;
    esac >>"$file"
done

start_emulator() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" && wait "$emulator_pid" 2>/dev/null || true
    "$vboctl" emulator --listen "127.0.0.1:$port" --seed-orgs "$seeded" --cert-out "$work/ca.pem" \
        ${latency:+--latency "$latency"} >"$work/emulator.log" 2>&1 &
    emulator_pid=$!
    for _ in $(seq 100); do grep -q "listening" "$work/emulator.log" 2>/dev/null && return; sleep 0.1; done
    echo "the emulator did not start" >&2; cat "$work/emulator.log" >&2; exit 1
}

export VBOCTL_SERVER="https://127.0.0.1:$port" VBOCTL_CA_CERT="$work/ca.pem"
export VBOCTL_USERNAME=admin VBOCTL_PASSWORD=vboctl-demo BENCH_PASSWORD=bench NO_COLOR=1

# Prints the wall-clock seconds of a command; its output goes to $work/out.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/out" 2>&1 || { echo "failed: $*" >&2; tail -5 "$work/out" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

echo "| step | organizations | seconds |"
echo "|---|---:|---:|"
printf '| validate | %d | %.2f |\n' "$manifests" "$(seconds "$vboctl" validate "$work/manifests")"
start_emulator
printf '| plan (all to create, %d unmanaged) | %d | %.2f |\n' "$seeded" "$manifests" "$(seconds "$vboctl" plan "$work/manifests")"
for p in "${parallelism[@]}"; do
    start_emulator
    printf '| apply --parallelism %d (create all, verify) | %d | %.2f |\n' "$p" "$manifests" \
        "$(seconds "$vboctl" apply "$work/manifests" --auto-approve --parallelism "$p")"
done
printf '| plan again (nothing to do, %d unmanaged) | %d | %.2f |\n' "$seeded" "$manifests" "$(seconds "$vboctl" plan "$work/manifests")"
grep -q "No changes" "$work/out" || { echo "the last plan was not empty" >&2; exit 1; }
