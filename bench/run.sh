#!/usr/bin/env bash
# The side-by-side benchmark: builds the hub and the benchmark subgraphs in
# release, installs the peer gateways that are missing, starts the
# subgraphs, then for each gateway in turn starts it on the same supergraph,
# checks its answers equal the hub's, drives it with wrk and records
# requests/s, latency, errors and peak memory. Writes a markdown report.
#
# usage: bench/run.sh [--duration S] [--warmup S] [--connections N]
#                     [--gateways "hub hive-router ..."] [--out FILE]
#                     [--skip-build] [--skip-install] [--suites "telemetry ..."]
# Environment: BENCH_HOME (install folder, default ~/.cache/tellonce-bench).
# Only 127.0.0.1 is ever contacted.

set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/run.sh${*:+ $*}"

DURATION=10
WARMUP=3
CONNECTIONS=50
THREADS=2
OUT="$BENCH_DIR/results/latest.md"
SKIP_BUILD=0
SELECTED=""
SUITES=""
SUBGRAPH_BASE_PORT=4201
GATEWAY_PORT=4300

while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --gateways) SELECTED=$2; shift 2 ;;
    --suites) SUITES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --skip-install) export BENCH_SKIP_INSTALL=1; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tellonce-bench.XXXXXX")
STATUS_DIR="$RUN_DIR/status"
RESULTS="$RUN_DIR/results.tsv"
mkdir -p "$STATUS_DIR" "$RUN_DIR/logs" "$RUN_DIR/bodies" "$RUN_DIR/responses"

source "$BENCH_DIR/lib/common.sh"
source "$BENCH_DIR/lib/install.sh"
source "$BENCH_DIR/lib/gateways.sh"
source "$BENCH_DIR/lib/report.sh"

trap 'stop_all_started' EXIT
trap 'exit 130' INT TERM

SUPERGRAPH="$BENCH_DIR/supergraph.graphql"
QUERIES=(deep single large-list mutation)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_DIR/target}
HUB_BIN="$TARGET_DIR/release/tellonce"
SUBGRAPHS_BIN="$TARGET_DIR/release/bench-subgraphs"
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)

log "run folder: $RUN_DIR"

# 1. Build.
if [ "$SKIP_BUILD" = 0 ]; then
  log "building the hub and the benchmark subgraphs (release)"
  (cd "$REPO_DIR" && cargo build --release -p tellonce --bin tellonce -p tellonce-bench-subgraphs --bin bench-subgraphs) \
    >"$RUN_DIR/logs/build.log" 2>&1 || die "release build failed (see $RUN_DIR/logs/build.log)"
fi
[ -x "$HUB_BIN" ] || die "no hub binary at $HUB_BIN"
[ -x "$SUBGRAPHS_BIN" ] || die "no subgraphs binary at $SUBGRAPHS_BIN"

# 2. Install the peers that are missing.
install_all
set_status hub "ok tellonce $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
for peer in hive-router apollo-gateway hive-gateway; do
  is_ok "$peer" || log "$(gateway_title "$peer") is not available: $(status_of "$peer" | cut -d' ' -f2-)"
done

# 3. Subgraphs.
for offset in 0 1 2 3; do
  port_is_free $((SUBGRAPH_BASE_PORT + offset)) || die "port $((SUBGRAPH_BASE_PORT + offset)) is in use"
done
port_is_free "$GATEWAY_PORT" || die "port $GATEWAY_PORT is in use"
"$SUBGRAPHS_BIN" --base-port "$SUBGRAPH_BASE_PORT" --workers 1 >"$RUN_DIR/logs/subgraphs.log" 2>&1 &
SUBGRAPHS_PID=$!
remember_pid "$SUBGRAPHS_PID"
for offset in 0 1 2 3; do
  wait_for_graphql "http://127.0.0.1:$((SUBGRAPH_BASE_PORT + offset))/graphql" "$SUBGRAPHS_PID" 30 ||
    die "the benchmark subgraphs did not start (see $RUN_DIR/logs/subgraphs.log)"
done
PRODUCTS_URL="http://127.0.0.1:$((SUBGRAPH_BASE_PORT + 1))/graphql"

for query in "${QUERIES[@]}"; do
  query_body "$BENCH_DIR/queries/$query.graphql" >"$RUN_DIR/bodies/$query.json"
done

# Checks GATEWAY's answer to QUERY against the hub's (normalized JSON: keys
# sorted), saves it, and prints "same", "reference", "differs" or "failed".
check_response() {
  local gateway=$1 url=$2 query=$3
  local raw="$RUN_DIR/responses/$gateway.$query.json"
  local info code
  info=$(post_graphql "$url" "$RUN_DIR/bodies/$query.json" "$raw")
  code=${info%% *}
  EXPECTED_BYTES=$(echo "$info" | awk '{print $2 + $3}')
  if [ "$code" != 200 ] || ! jq -S -c . "$raw" >"$raw.normalized" 2>/dev/null; then
    echo failed
    return
  fi
  if jq -e '.errors' "$raw" >/dev/null 2>&1 || ! jq -e '.data' "$raw" >/dev/null 2>&1; then
    echo failed
    return
  fi
  local reference="$RUN_DIR/responses/hub.$query.json.normalized"
  if [ "$gateway" = hub ]; then
    echo reference
  elif [ ! -s "$reference" ]; then
    echo unchecked
  elif cmp -s "$raw.normalized" "$reference"; then
    echo same
  else
    diff <(jq -S . "$raw") <(jq -S . "$RUN_DIR/responses/hub.$query.json") >"$raw.diff" 2>&1
    echo differs
  fi
}

# Drives URL with QUERY: a warm-up, then the measured run with memory
# sampled from PID's process tree; appends one row to RESULTS.
measure() {
  local gateway=$1 variant=$2 query=$3 url=$4 pid=$5 check=$6 expected=$7
  local body="$RUN_DIR/bodies/$query.json" rss="$RUN_DIR/rss.$gateway.$variant.$query"
  local out="$RUN_DIR/logs/wrk.$gateway.$variant.$query.txt"
  : >"$rss"
  start_rss_sampler "$pid" "$rss"
  BENCH_BODY="$body" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s \
    -s "$BENCH_DIR/post.lua" "$url" >/dev/null 2>&1
  BENCH_BODY="$body" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
    -s "$BENCH_DIR/post.lua" "$url" >"$out" 2>&1
  stop_rss_sampler
  local line
  line=$(grep '^BENCH_RESULT' "$out" | tail -1)
  if [ -z "$line" ]; then
    log "wrk gave no result for $gateway $query (see $out)"
    printf '%s\t%s\t%s\tfailed\t\t\t\t\t\t\t%s\n' "$gateway" "$variant" "$query" "$check" >>"$RESULTS"
    return
  fi
  local peak
  peak=$(peak_of "$rss")
  echo "$line" | awk -v g="$gateway" -v v="$variant" -v q="$query" -v c="$check" \
    -v peak="${peak:-0}" -v expected="$expected" '
    {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      secs = r["duration_us"] / 1e6
      rps = secs > 0 ? r["requests"] / secs : 0
      errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
      per = r["requests"] > 0 ? r["bytes"] / r["requests"] : 0
      printf "%s\t%s\t%s\t%.1f\t%.2f\t%.2f\t%d\t%.1f\t%.0f\t%d\t%s\n", g, v, q, rps,
        r["p50_us"] / 1000, r["p99_us"] / 1000, errors, peak / 1024, per, expected, c
    }' >>"$RESULTS"
  log "$(tail -1 "$RESULTS" | awk -F'\t' '{printf "%s %s %s: %s req/s, p50 %s ms, p99 %s ms, errors %s, peak %s MiB, response %s", $1, $2, $3, $4, $5, $6, $7, $8, $11}')"
}

# Runs every query against one gateway variant.
bench_gateway() {
  local gateway=$1 variant=$2
  shift 2
  local queries=("$@")
  GW_PID="" GW_URL=""
  if ! "start_$gateway" "$SUPERGRAPH" "$GATEWAY_PORT" "$variant"; then
    return
  fi
  remember_pid "$GW_PID"
  log "started $(gateway_title "$gateway") (inbound dedup $variant), pid $GW_PID"
  if ! wait_for_graphql "$GW_URL" "$GW_PID" 120; then
    log "$(gateway_title "$gateway") did not become ready; see $RUN_DIR/logs"
    set_status "$gateway" "missing did not start: $(tail -3 "$RUN_DIR/logs/$gateway"*.log 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
    stop_pid "$GW_PID"
    return
  fi
  local query check
  for query in "${queries[@]}"; do
    EXPECTED_BYTES=0
    check=$(check_response "$gateway" "$GW_URL" "$query")
    if [ "$check" = failed ]; then
      log "$(gateway_title "$gateway") failed the $query query; not measured (see $RUN_DIR/responses/$gateway.$query.json)"
      printf '%s\t%s\t%s\tfailed\t\t\t\t\t\t\t%s\n' "$gateway" "$variant" "$query" "$check" >>"$RESULTS"
      continue
    fi
    [ "$check" = differs ] && log "$(gateway_title "$gateway") answers $query differently from the hub: $RUN_DIR/responses/$gateway.$query.json.diff"
    measure "$gateway" "$variant" "$query" "$GW_URL" "$GW_PID" "$check" "$EXPECTED_BYTES"
  done
  stop_pid "$GW_PID"
  sleep 1
}

selected() { [ -z "$SELECTED" ] || [[ " $SELECTED " == *" $1 "* ]]; }

# 4. The single-subgraph query straight to the products subgraph.
if selected subgraph || [ -z "$SELECTED" ]; then
  EXPECTED_BYTES=0
  check=$(check_response subgraph "$PRODUCTS_URL" single)
  measure subgraph off single "$PRODUCTS_URL" "$SUBGRAPHS_PID" "$check" "$EXPECTED_BYTES"
fi

# 5. Each gateway in turn: every query with inbound dedup off, then the
# deep query with it on where the gateway has it.
for gateway in "${GATEWAYS[@]}"; do
  selected "$gateway" || continue
  is_ok "$gateway" || continue
  bench_gateway "$gateway" off "${QUERIES[@]}"
  if supports_inbound_dedup "$gateway"; then
    bench_gateway "$gateway" on deep
  fi
done

# The subgraph check compares against the hub, which ran after it.
if [ -s "$RUN_DIR/responses/hub.single.json.normalized" ] && [ -s "$RUN_DIR/responses/subgraph.single.json.normalized" ]; then
  verdict=differs
  cmp -s "$RUN_DIR/responses/hub.single.json.normalized" "$RUN_DIR/responses/subgraph.single.json.normalized" && verdict=same
  awk -F'\t' -v OFS='\t' -v v="$verdict" '$1 == "subgraph" { $11 = v } { print }' "$RESULTS" >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
fi

# 6. Suites other parts of the hub contribute (ledger, tell us once,
# subscriptions): every executable bench/suites/*.sh prints a markdown section.
EXTRA_SECTIONS="$RUN_DIR/suites.md"
: >"$EXTRA_SECTIONS"
for suite in "$BENCH_DIR"/suites/*.sh; do
  [ -x "$suite" ] || continue
  case " ${SUITES:-$(basename "$suite" .sh)} " in *" $(basename "$suite" .sh) "*) ;; *) continue ;; esac
  log "suite $(basename "$suite")"
  BENCH_RUN_DIR="$RUN_DIR" HUB_BIN="$HUB_BIN" "$suite" >>"$EXTRA_SECTIONS" 2>>"$RUN_DIR/logs/suites.log" ||
    echo "Suite $(basename "$suite") failed; see the run folder's logs/suites.log." >>"$EXTRA_SECTIONS"
done

stop_all_started
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$(dirname "$OUT")"
render_report >"$OUT"
cp "$OUT" "$RUN_DIR/report.md"
log "report: $OUT (run folder $RUN_DIR)"
