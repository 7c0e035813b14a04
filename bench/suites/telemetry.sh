#!/usr/bin/env bash
# What watching the hub costs on the deep query: the hub with Prometheus
# metrics on and OpenTelemetry traces sampled at 1 % (sent to a local OTLP
# sink) against the same hub with both off, in alternating rounds like the
# deep-query suite so a noisy spell of the machine falls on both. The ratio
# is on ÷ off. Runs inside bench/run.sh (the benchmark subgraphs are up);
# prints a markdown section. TELEMETRY_ROUNDS (5) rounds of
# TELEMETRY_ROUND_SECONDS (6).
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_DIR/lib/common.sh"
source "$BENCH_DIR/lib/gateways.sh"
trap 'stop_all_started' EXIT

RUN_DIR=${BENCH_RUN_DIR:?run by bench/run.sh}
HUB_BIN=${HUB_BIN:?run by bench/run.sh}
ROUNDS=${TELEMETRY_ROUNDS:-5}
SECONDS_PER_RUN=${TELEMETRY_ROUND_SECONDS:-6}
ON_PORT=4312
OFF_PORT=4313
SINK_PORT=4314
BODY="$RUN_DIR/bodies/deep.json"
OUT="$RUN_DIR/telemetry_rounds.txt"

echo "## Metrics and traces on and off: the deep query"
echo
for port in "$ON_PORT" "$OFF_PORT" "$SINK_PORT"; do
  port_is_free "$port" || {
    echo "Not run: port $port is in use."
    echo
    exit 0
  }
done

# An OTLP/HTTP sink that counts the exports it is sent and answers each.
SINK="$RUN_DIR/otlp_sink.py"
cat >"$SINK" <<'PY'
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    exports = 0
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        Sink.exports += 1
        with open(sys.argv[2], "w") as f:
            f.write(str(Sink.exports))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
EXPORTS="$RUN_DIR/otlp_exports.txt"
echo 0 >"$EXPORTS"
python3 "$SINK" "$SINK_PORT" "$EXPORTS" >>"$RUN_DIR/logs/otlp-sink.log" 2>&1 &
remember_pid $!

ON_DIR="$RUN_DIR/hub-telemetry-on"
OFF_DIR="$RUN_DIR/hub-telemetry-off"
rm -rf "$ON_DIR" "$OFF_DIR" && mkdir -p "$ON_DIR" "$OFF_DIR"
# The same hub both times (anonymous, public, no rate limit, the cost limit
# raised for the deep query) but for [telemetry].
COMMON='[gateway]\ninbound_dedup = false\n[authorization]\npublic = ["*"]\n[rate_limit]\nenabled = false\n[limits]\nmax_cost = 100000\n'
printf "$COMMON"'[telemetry]\nmetrics = true\notlp_endpoint = "http://127.0.0.1:%s"\ntrace_sample_ratio = 0.01\notlp_export_ms = 1000\n' "$SINK_PORT" >"$ON_DIR/tellonce.toml"
printf "$COMMON"'[telemetry]\nmetrics = false\n' >"$OFF_DIR/tellonce.toml"

for variant in on off; do
  if [ "$variant" = on ]; then dir=$ON_DIR port=$ON_PORT; else dir=$OFF_DIR port=$OFF_PORT; fi
  RUST_LOG=warn "$HUB_BIN" serve --config "$dir/tellonce.toml" --supergraph "$BENCH_DIR/supergraph.graphql" \
    --listen "127.0.0.1:$port" --data-dir "$dir" \
    >"$RUN_DIR/logs/hub-telemetry-$variant.log" 2>&1 &
  remember_pid $!
done
ON_URL="http://127.0.0.1:$ON_PORT/graphql"
OFF_URL="http://127.0.0.1:$OFF_PORT/graphql"
wait_for_graphql "$OFF_URL" "" 60 && wait_for_graphql "$ON_URL" "" 60 || {
  echo "Not run: a hub did not start (see logs/hub-telemetry-*.log)."
  echo
  exit 0
}
on_answer=$(curl -s -H 'content-type: application/json' --data-binary "@$BODY" "$ON_URL" | jq -S -c .data)
off_answer=$(curl -s -H 'content-type: application/json' --data-binary "@$BODY" "$OFF_URL" | jq -S -c .data)
if [ "$on_answer" != "$off_answer" ] || [ "$on_answer" = null ] ||
  ! curl -sf "http://127.0.0.1:$ON_PORT/metrics" | grep -q '^tellonce_requests_total'; then
  echo "Not measured: the two hubs' answers differ, or the hub with metrics on serves none."
  echo
  exit 0
fi

on_off_rounds "$OUT" "$ROUNDS" "$SECONDS_PER_RUN" "$BODY" "$ON_URL" "$OFF_URL"
sleep 2
exports=$(cat "$EXPORTS")
stop_all_started

echo "$ROUNDS rounds, one ${SECONDS_PER_RUN} s wrk run (2 s warm-up) per hub per round, the order"
echo "swapped every round; wrk 2 threads, 50 connections. *On*: \`/metrics\` recording every"
echo "request, subgraph call and cache lookup; traces exported over OTLP/HTTP to a local sink"
echo "with \`trace_sample_ratio = 0.01\` (every request's spans built, 1 % sent; the sink received"
echo "$exports exports). *Off*: \`metrics = false\`, no \`otlp_endpoint\`. Inbound deduplication"
echo "is off in both, anonymous, every field public. Any failed request voids a run."
echo
on_off_table "$OUT"
echo
