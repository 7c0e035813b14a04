#!/usr/bin/env bash
# Profiles the hub serving the deep query under load with valgrind's
# callgrind (instruction counts; works where hardware counters do not), and
# prints the top functions by own and by inclusive cost.
# usage: bench/profile.sh [QUERY (deep)] [SECONDS (20)]
# Needs the release binaries (bench/run.sh builds them) and valgrind.
# Inbound and outbound deduplication are off (DEDUP=true, OUTBOUND_DEDUP=true
# turn them on) so that every request is one execution with its own subgraph
# calls, and the instructions per request do not depend on timing.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
QUERY=${1:-deep}
SECONDS_UNDER_LOAD=${2:-20}
DEDUP=${DEDUP:-false}
OUTBOUND_DEDUP=${OUTBOUND_DEDUP:-false}
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tellonce-profile.XXXXXX")
mkdir -p "$RUN_DIR/logs"
printf '[gateway]\ninbound_dedup = %s\noutbound_dedup = %s\n' "$DEDUP" "$OUTBOUND_DEDUP" >"$RUN_DIR/tellonce.toml"
source "$BENCH_DIR/lib/common.sh"
trap 'stop_all_started' EXIT
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_DIR/target}

"$TARGET_DIR/release/bench-subgraphs" --base-port 4201 >"$RUN_DIR/logs/subgraphs.log" 2>&1 &
remember_pid $!
RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$RUN_DIR/callgrind.out" \
  "$TARGET_DIR/release/tellonce" serve --config "$RUN_DIR/tellonce.toml" --supergraph "$BENCH_DIR/supergraph.graphql" \
  --listen 127.0.0.1:4300 --data-dir "$RUN_DIR/data" >"$RUN_DIR/logs/hub.log" 2>&1 &
HUB_PID=$!
remember_pid "$HUB_PID"
wait_for_graphql http://127.0.0.1:4201/graphql "" 30 || die "subgraphs did not start"
wait_for_graphql http://127.0.0.1:4300/graphql "$HUB_PID" 120 || die "hub did not start under valgrind"
query_body "$BENCH_DIR/queries/$QUERY.graphql" >"$RUN_DIR/body.json"
BENCH_BODY="$RUN_DIR/body.json" wrk -t1 -c8 -d"${SECONDS_UNDER_LOAD}s" --timeout 30s \
  -s "$BENCH_DIR/post.lua" http://127.0.0.1:4300/graphql | tee "$RUN_DIR/wrk.txt" >&2
kill -TERM "$HUB_PID"
wait "$HUB_PID" 2>/dev/null
REQUESTS=$(grep -o 'requests=[0-9]*' "$RUN_DIR/wrk.txt" | cut -d= -f2)
TOTAL=$(callgrind_annotate "$RUN_DIR/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "# callgrind: $QUERY query, requests=$REQUESTS under valgrind (inbound dedup $DEDUP, outbound dedup $OUTBOUND_DEDUP), run folder $RUN_DIR"
echo "# instructions: $TOTAL in all, $((TOTAL / (REQUESTS > 0 ? REQUESTS : 1))) per request"
echo "## Own cost (exclusive)"
callgrind_annotate --inclusive=no "$RUN_DIR/callgrind.out" 2>/dev/null | sed -n '1,60p'
echo "## Inclusive cost"
callgrind_annotate --inclusive=yes "$RUN_DIR/callgrind.out" 2>/dev/null | sed -n '1,80p'
