# How to start each gateway on the benchmark supergraph. Every
# start_<gateway> takes SUPERGRAPH PORT DEDUP (on|off) and sets GW_PID and
# GW_URL; it returns non-zero when the gateway cannot run that variant.
# Sourced by bench/run.sh.

# Gateways in table order.
GATEWAYS=(hub hive-router apollo-gateway hive-gateway)

gateway_title() {
  case $1 in
    hub) echo "tellonce hub" ;;
    hive-router) echo "Hive Router" ;;
    apollo-gateway) echo "Apollo Gateway" ;;
    hive-gateway) echo "Hive Gateway" ;;
    subgraph) echo "subgraph directly" ;;
    *) echo "$1" ;;
  esac
}

# Whether a gateway can deduplicate identical in-flight inbound requests.
supports_inbound_dedup() {
  case $1 in
    hub | hive-router) return 0 ;;
    *) return 1 ;;
  esac
}

# Why a gateway is absent from the dedup-on rows.
inbound_dedup_note() {
  case $1 in
    apollo-gateway) echo "no inbound deduplication" ;;
    hive-gateway) echo "deduplicates outbound only (on by default)" ;;
    *) echo "not supported" ;;
  esac
}

start_hub() {
  local supergraph=$1 port=$2 dedup=$3
  local enabled=false
  [ "$dedup" = on ] && enabled=true
  local data_dir="$RUN_DIR/hub-data-$dedup"
  rm -rf "$data_dir" && mkdir -p "$data_dir"
  # The peers run with no credentials and no rate limits: so does the hub
  # here. Request limits stay on, the cost limit raised to admit the deep
  # query (estimated 12,211 against the default 10,000); the security suite
  # compares the hub with all of it on and off.
  printf '[gateway]\ninbound_dedup = %s\n[authorization]\npublic = ["*"]\n[rate_limit]\nenabled = false\n[limits]\nmax_cost = 100000\n' \
    "$enabled" >"$data_dir/tellonce.toml"
  RUST_LOG=warn "$HUB_BIN" serve --config "$data_dir/tellonce.toml" --supergraph "$supergraph" \
    --listen "127.0.0.1:$port" --data-dir "$data_dir" >"$RUN_DIR/logs/hub-dedup-$dedup.log" 2>&1 &
  GW_PID=$!
  GW_URL="http://127.0.0.1:$port/graphql"
}

start_hive-router() {
  local supergraph=$1 port=$2 dedup=$3
  local enabled=false
  [ "$dedup" = on ] && enabled=true
  local config="$RUN_DIR/hive-router-dedup-$dedup.yaml"
  cat >"$config" <<EOF
supergraph:
  source: file
  path: $supergraph
http:
  host: 127.0.0.1
  port: $port
log:
  level: error
traffic_shaping:
  router:
    dedupe:
      enabled: $enabled
EOF
  (cd "$RUN_DIR" && exec env ROUTER_CONFIG_FILE_PATH="$config" "$HIVE_ROUTER_BIN") \
    >"$RUN_DIR/logs/hive-router-dedup-$dedup.log" 2>&1 &
  GW_PID=$!
  GW_URL="http://127.0.0.1:$port/graphql"
}

start_apollo-gateway() {
  local supergraph=$1 port=$2 dedup=$3
  [ "$dedup" = off ] || return 1
  cp "$BENCH_DIR/peers/apollo-gateway.mjs" "$APOLLO_GATEWAY_DIR/gateway.mjs"
  (cd "$APOLLO_GATEWAY_DIR" && NODE_ENV=production exec node gateway.mjs "$supergraph" "$port") \
    >"$RUN_DIR/logs/apollo-gateway.log" 2>&1 &
  GW_PID=$!
  GW_URL="http://127.0.0.1:$port/graphql"
}

start_hive-gateway() {
  local supergraph=$1 port=$2 dedup=$3
  [ "$dedup" = off ] || return 1
  (cd "$HIVE_GATEWAY_DIR" && NODE_ENV=production exec node_modules/.bin/hive-gateway supergraph \
    "$supergraph" --host 127.0.0.1 --port "$port") \
    >"$RUN_DIR/logs/hive-gateway.log" 2>&1 &
  GW_PID=$!
  GW_URL="http://127.0.0.1:$port/graphql"
}
