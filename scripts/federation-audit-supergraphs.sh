#!/usr/bin/env bash
# Writes every federation gateway audit suite's supergraph, subgraphs and
# tests into a folder, so the hub can be tried on one suite by hand.
#
#   scripts/federation-audit-supergraphs.sh AUDIT_DIR OUT_DIR [--serve]
#
# For each suite id it writes:
#   OUT_DIR/<suite>.graphql         the supergraph SDL (subgraph URLs point at
#                                   http://localhost:$AUDIT_SUBGRAPH_PORT/<suite>/<subgraph>)
#   OUT_DIR/<suite>.subgraphs.json  [{name, url, sdl}] of the suite's subgraphs
#   OUT_DIR/<suite>.tests.json      [{query, expected}] the audit checks
# and OUT_DIR/suites.txt, one suite id a line.
#
# The supergraphs only work while the audit's subgraphs run: with --serve the
# script keeps them running (Ctrl-C stops them), so in another shell:
#   target/release/tellonce serve --supergraph OUT_DIR/requires-requires.graphql --listen 127.0.0.1:4000
#
# Environment: AUDIT_SUBGRAPH_PORT (default 4200), AUDIT_CACHE (see federation-audit.sh).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/federation-audit-setup.sh
source "$script_dir/federation-audit-setup.sh"

if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != "--serve" ]; }; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
audit_dir="$(cd "$1" && pwd)" || audit_die "no such directory: $1"
out_dir="$2"
keep_serving="${3:-}"
subgraph_port="${AUDIT_SUBGRAPH_PORT:-4200}"
base="http://localhost:$subgraph_port"

audit_use_node24
audit_prepare_checkout "$audit_dir"
audit_require_free_port "$subgraph_port" "audit subgraphs"
mkdir -p "$out_dir"

(cd "$audit_dir" && exec ./node_modules/.bin/tsx ./src/cli.ts serve --port "$subgraph_port") &
server_pid=$!
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
  curl -fsS "$base/_health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || audit_die "the audit's subgraph server exited"
  sleep 0.2
done
curl -fsS "$base/_health" >/dev/null || audit_die "the audit's subgraphs did not start on port $subgraph_port"

curl -fsS "$base/ids" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).join("\n")))' >"$out_dir/suites.txt"
count=0
while read -r suite; do
  curl -fsS "$base/$suite/supergraph" -o "$out_dir/$suite.graphql"
  curl -fsS -H 'accept: application/json' "$base/$suite/subgraphs" -o "$out_dir/$suite.subgraphs.json"
  curl -fsS -H 'accept: application/json' "$base/$suite/tests" -o "$out_dir/$suite.tests.json"
  count=$((count + 1))
done <"$out_dir/suites.txt"
audit_log "wrote $count suites to $out_dir"

if [ "$keep_serving" = "--serve" ]; then
  audit_log "subgraphs serving on $base (Ctrl-C to stop)"
  wait "$server_pid"
fi
