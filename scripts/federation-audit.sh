#!/usr/bin/env bash
# Runs the public federation gateway audit (graphql-hive/federation-gateway-audit)
# against the tellonce hub and prints the pass count and every failing test.
#
#   scripts/federation-audit.sh AUDIT_DIR [SUITE]
#
#   AUDIT_DIR  a checkout of graphql-hive/federation-gateway-audit
#   SUITE      one suite id (e.g. requires-with-fragments); all 46 when omitted
#
# Exit status: 0 when every test passed, 1 when any failed, 2 on a set-up error.
#
# Environment:
#   TELLONCE_BIN         hub binary (default: target/release/tellonce of this
#                        repository, built with `cargo build --release` if absent)
#   TELLONCE_SERVE_ARGS  extra arguments appended to `tellonce serve`
#   AUDIT_GATEWAY_PORT   port the hub listens on (default 4000)
#   AUDIT_SUBGRAPH_PORT  port of the audit's subgraphs (default 4200)
#   AUDIT_CACHE          Node 24 lives here (default ~/.cache/tellonce-audit)
#   AUDIT_OUT            report.txt, TAP logs and hub logs (default $AUDIT_CACHE/run)
#   GATEWAY_TIMEOUT      ms the audit waits for /health per suite (default 10000)
#
# See scripts/README.md for what the audit does and how to read its output.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$script_dir/.." && pwd)"
# shellcheck source=scripts/federation-audit-setup.sh
source "$script_dir/federation-audit-setup.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
audit_dir="$(cd "$1" && pwd)" || audit_die "no such directory: $1"
suite="${2:-}"

gateway_port="${AUDIT_GATEWAY_PORT:-4000}"
subgraph_port="${AUDIT_SUBGRAPH_PORT:-4200}"
out_dir="${AUDIT_OUT:-$AUDIT_CACHE/run}"
export GATEWAY_TIMEOUT="${GATEWAY_TIMEOUT:-10000}"

# The hub binary.
if [ -n "${TELLONCE_BIN:-}" ]; then
  hub_bin="$TELLONCE_BIN"
else
  hub_bin="$repo_dir/target/release/tellonce"
  if [ ! -x "$hub_bin" ]; then
    audit_log "building the hub: cargo build --release (in $repo_dir)"
    (cd "$repo_dir" && cargo build --release >&2) || audit_die "cargo build --release failed"
  fi
fi
[ -x "$hub_bin" ] || audit_die "hub binary $hub_bin is missing or not executable (set TELLONCE_BIN)"
hub_bin="$(cd "$(dirname "$hub_bin")" && pwd)/$(basename "$hub_bin")"

audit_use_node24
audit_prepare_checkout "$audit_dir"
audit_require_free_port "$subgraph_port" "audit subgraphs"
audit_require_free_port "$gateway_port" "hub"

# The gateway folder the audit drives: run.sh gets the suite id as $1, runs
# with this folder as its working directory, and must start a gateway serving
# that suite's supergraph on $gateway_port. The audit kills it after the suite.
gateway_dir="$out_dir/gateway"
mkdir -p "$gateway_dir"
rm -rf "$gateway_dir/logs" "$gateway_dir/results.txt"
cat >"$gateway_dir/run.sh" <<EOF
#!/bin/sh
# Written by scripts/federation-audit.sh: serve one audit suite with the hub.
set -e
export NO_COLOR=1
curl -fsS "http://localhost:$subgraph_port/\$1/supergraph" -o supergraph.graphql
exec "$hub_bin" serve --supergraph supergraph.graphql --listen "127.0.0.1:$gateway_port" ${TELLONCE_SERVE_ARGS:-}
EOF
chmod +x "$gateway_dir/run.sh"

audit_args=(
  --cwd "$gateway_dir"
  --run-script "$gateway_dir/run.sh"
  --graphql "http://127.0.0.1:$gateway_port/graphql"
  --healthcheck "http://127.0.0.1:$gateway_port/health"
  --port "$subgraph_port"
  --reporter dot
)
if [ -n "$suite" ]; then
  audit_log "running suite $suite against $hub_bin"
  command=(test-suite --test "$suite")
else
  audit_log "running all suites against $hub_bin"
  command=(test)
fi

# The audit's exit code is not the verdict (`test` exits 0 on failures unless
# told otherwise); the report below reads the TAP log of every suite instead.
# Its port killer runs `kill` with no pid before every suite when the port is
# free; the filter drops that usage text and runs of blank lines.
set +e
(cd "$audit_dir" && ./node_modules/.bin/tsx ./src/cli.ts "${command[@]}" "${audit_args[@]}" 2>&1) |
  awk '
    { sub(/^(xargs - ?)+/, "") }
    /^ ?kill \[options\]|^Usage:$|^Options:$|^ <pid> |^ -<signal>|^ +specify the <signal>|^ -[qlLhV], --|^For more details see kill/ { next }
    /^[[:space:]]*$/ { if (blank++) next; print; fflush(); next }
    { blank = 0; print; fflush() }
  '
audit_status=${PIPESTATUS[0]}
set -e
if [ ! -d "$gateway_dir/logs" ]; then
  audit_die "the audit wrote no logs (exit $audit_status); see its output above"
fi

echo
set +e
node "$script_dir/federation-audit-report.mjs" "$gateway_dir/logs" | tee "$out_dir/report.txt"
report_status=${PIPESTATUS[0]}
set -e
exit "$report_status"
