#!/usr/bin/env bash
# The deep query, the hub against Hive Router, in alternating rounds: one
# measured run per gateway per round, the order swapped every round, so that
# a quiet or a busy spell of the shared machine falls on both. The tables
# above measure each gateway once; on a machine whose figures swing by 30 %
# between runs, the mean of several alternating rounds is the ratio to trust.
# Runs inside bench/run.sh (the benchmark subgraphs are up); prints a
# markdown section. DEEP_ROUNDS (5) rounds of DEEP_ROUND_SECONDS (6) each.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_DIR/lib/common.sh"
source "$BENCH_DIR/lib/install.sh"
source "$BENCH_DIR/lib/gateways.sh"
trap 'stop_all_started' EXIT

RUN_DIR=${BENCH_RUN_DIR:?run by bench/run.sh}
ROUNDS=${DEEP_ROUNDS:-5}
SECONDS_PER_RUN=${DEEP_ROUND_SECONDS:-6}
HUB_PORT=4300
HIVE_PORT=4301
BODY="$RUN_DIR/bodies/deep.json"

echo "## Deep query in alternating rounds: hub and Hive Router"
echo
if [ ! -x "$HIVE_ROUTER_BIN" ]; then
  echo "Not run: Hive Router is not installed ($HIVE_ROUTER_BIN)."
  echo
  exit 0
fi

# Both gateways with inbound dedup DEDUP (on|off), ROUNDS alternating rounds.
compare() {
  local dedup=$1 hub_url hive_url round first second line
  start_hub "$BENCH_DIR/supergraph.graphql" "$HUB_PORT" "$dedup"
  remember_pid "$GW_PID"
  hub_url=$GW_URL
  start_hive-router "$BENCH_DIR/supergraph.graphql" "$HIVE_PORT" "$dedup"
  remember_pid "$GW_PID"
  hive_url=$GW_URL
  wait_for_graphql "$hub_url" "" 60 && wait_for_graphql "$hive_url" "" 60 || {
    echo "| inbound dedup $dedup | a gateway did not start | | | |"
    stop_all_started
    return
  }
  for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then first=hub second=hive; else first=hive second=hub; fi
    for gateway in $first $second; do
      local url=$hub_url
      [ "$gateway" = hive ] && url=$hive_url
      line=$(wrk_rate_p99 "$url" "$BODY" "$SECONDS_PER_RUN")
      echo "$dedup $round $gateway ${line:-failed failed}" >>"$RUN_DIR/deep_rounds.txt"
    done
  done
  stop_all_started
}

: >"$RUN_DIR/deep_rounds.txt"
for dedup in off on; do
  port_is_free "$HUB_PORT" && port_is_free "$HIVE_PORT" || {
    echo "Not run: port $HUB_PORT or $HIVE_PORT is in use."
    exit 0
  }
  compare "$dedup"
done

echo "$ROUNDS rounds per setting, one ${SECONDS_PER_RUN} s wrk run (2 s warm-up) per gateway per round, the"
echo "order swapped every round; wrk 2 threads, 50 connections. Outbound deduplication is"
echo "each gateway's default (on in both)."
echo
echo "| inbound dedup | round | hub req/s | Hive Router req/s | hub ÷ Hive Router | hub p99 ms | Hive Router p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
awk '
  { key = $1 " " $2; rps[key, $3] = $4; p99[key, $3] = $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  END {
    for (i = 1; i <= n; i++) {
      split(order[i], k, " ")
      h = rps[order[i], "hub"]; v = rps[order[i], "hive"]
      r = (h + 0 > 0 && v + 0 > 0) ? sprintf("%.2f", h / v) : "n/a"
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], h, v, r, p99[order[i], "hub"], p99[order[i], "hive"]
      if (h + 0 > 0 && v + 0 > 0) { sh[k[1]] += h; sv[k[1]] += v; ph[k[1]] += p99[order[i], "hub"]; pv[k[1]] += p99[order[i], "hive"]; c[k[1]]++ }
    }
    for (j = 1; j <= 2; j++) {
      d = (j == 1) ? "off" : "on"
      if (c[d]) printf "| %s | **mean** | **%.1f** | **%.1f** | **%.2f** | **%.2f** | **%.2f** |\n", d, sh[d] / c[d], sv[d] / c[d], sh[d] / sv[d], ph[d] / c[d], pv[d] / c[d]
    }
  }' "$RUN_DIR/deep_rounds.txt"
echo
