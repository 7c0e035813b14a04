# Shared helpers for the benchmark harness: logging, waiting for a GraphQL
# endpoint, posting a query, and sampling a process tree's memory.
# Sourced by bench/run.sh; expects RUN_DIR to be set.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The processes this harness started, stopped on exit (by id, never by name).
STARTED_PIDS=()

remember_pid() { STARTED_PIDS+=("$1"); }

# Stops one process we started (and its children), politely then firmly.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  local children
  children=$(descendants "$pid")
  kill -TERM "$pid" $children 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" $children 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  STARTED_PIDS=()
}

# Every descendant of a process id (children, grandchildren, ...).
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } }
      }
      for (p in keep) if (p != root) printf "%s ", p
    }'
}

# Resident memory of a process and all its descendants, in KiB.
tree_rss_kib() {
  ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
    { parent[$1] = $2; rss[$1] = $3; pids[NR] = $1 }
    END {
      keep[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } }
      }
      total = 0
      for (p in keep) total += rss[p]
      print total
    }'
}

# Samples tree_rss_kib of PID every 250 ms into FILE until killed; the
# largest sample is the peak.
start_rss_sampler() {
  local pid=$1 file=$2
  (
    while kill -0 "$pid" 2>/dev/null; do
      tree_rss_kib "$pid" >>"$file"
      sleep 0.25
    done
  ) &
  RSS_SAMPLER_PID=$!
}

stop_rss_sampler() {
  kill "$RSS_SAMPLER_PID" 2>/dev/null || true
  wait "$RSS_SAMPLER_PID" 2>/dev/null || true
}

peak_of() { sort -n "$1" 2>/dev/null | tail -1; }

# The JSON request body for a .graphql file.
query_body() { jq -Rs '{query: .}' "$1"; }

# POSTs BODY_FILE to URL; writes the response to OUT and prints the status
# code and total size (headers + body) in bytes.
post_graphql() {
  local url=$1 body_file=$2 out=$3
  curl -sS -o "$out" -w '%{http_code} %{size_header} %{size_download}' \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data-binary "@$body_file" --max-time 30 "$url" 2>/dev/null || echo "000 0 0"
}

# Waits until URL answers a trivial query with HTTP 200, or PID exits, or
# the timeout (seconds) passes.
wait_for_graphql() {
  local url=$1 pid=$2 timeout=${3:-90} probe
  probe="$RUN_DIR/probe.json"
  printf '{"query":"{ __typename }"}' >"$probe"
  local deadline=$((SECONDS + timeout))
  while [ $SECONDS -lt $deadline ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "@$probe" --max-time 2 "$url" 2>/dev/null || true)
    [ "$code" = "200" ] && return 0
    sleep 0.3
  done
  return 1
}

port_is_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# One measured wrk run of BODY against URL, after a 2 s warm-up, with an
# optional authorization header: prints "req/s p99_ms", nothing when any
# request failed.
wrk_rate_p99() {
  local url=$1 body=$2 seconds=$3 authorization=${4:-}
  BENCH_AUTHORIZATION="$authorization" BENCH_BODY="$body" wrk -t2 -c50 -d2s --timeout 10s -s "$BENCH_DIR/post.lua" "$url" >/dev/null 2>&1
  BENCH_AUTHORIZATION="$authorization" BENCH_BODY="$body" wrk -t2 -c50 -d"${seconds}s" --timeout 10s -s "$BENCH_DIR/post.lua" "$url" 2>/dev/null |
    awk '/^BENCH_RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
      if (errors == 0 && r["duration_us"] > 0) printf "%.1f %.2f\n", r["requests"] / (r["duration_us"] / 1e6), r["p99_us"] / 1000
    }'
}

# The markdown table of alternating on/off rounds from FILE's
# "round on|off req/s p99_ms" lines, with the mean and the on ÷ off ratio.
on_off_table() {
  echo "| round | on req/s | off req/s | on ÷ off | on p99 ms | off p99 ms |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '
    { rps[$1, $2] = $3; p99[$1, $2] = $4; if ($1 > n) n = $1 }
    END {
      for (i = 1; i <= n; i++) {
        a = rps[i, "on"]; b = rps[i, "off"]
        r = (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "n/a"
        printf "| %d | %s | %s | %s | %s | %s |\n", i, a, b, r, p99[i, "on"], p99[i, "off"]
        if (a + 0 > 0 && b + 0 > 0) { sa += a; sb += b; pa += p99[i, "on"]; pb += p99[i, "off"]; c++ }
      }
      if (c) printf "| **mean** | **%.1f** | **%.1f** | **%.2f** | **%.2f** | **%.2f** |\n", sa / c, sb / c, sa / sb, pa / c, pb / c
    }' "$1"
}

# ROUNDS alternating rounds of the deep-query BODY against ON_URL and
# OFF_URL (the order swapped every round, so a noisy spell falls on both),
# SECONDS each, written to OUT as "round on|off req/s p99_ms" lines for
# on_off_table. ON_AUTHORIZATION, if given, is sent to ON_URL only.
on_off_rounds() {
  local out=$1 rounds=$2 seconds=$3 body=$4 on_url=$5 off_url=$6 on_authorization=${7:-}
  local round order variant line
  : >"$out"
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="on off"; else order="off on"; fi
    for variant in $order; do
      if [ "$variant" = on ]; then
        line=$(wrk_rate_p99 "$on_url" "$body" "$seconds" "$on_authorization")
      else
        line=$(wrk_rate_p99 "$off_url" "$body" "$seconds")
      fi
      echo "$round $variant ${line:-failed failed}" >>"$out"
    done
  done
}
