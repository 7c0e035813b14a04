#!/usr/bin/env bash
# What security costs on the deep query: the hub with every protection on
# (an API key checked on each request, a per-principal rate limit checked on
# each request with a budget it never reaches, `@requiresScopes` on the root
# field the query asks for, every request limit on: the defaults, the cost
# limit raised to admit the query) against the
# same hub with them off (anonymous, every field public, no rate limit,
# limits raised out of reach), in alternating rounds like the deep-query
# suite so a noisy spell of the machine falls on both. The ratio is on ÷ off.
# Runs inside bench/run.sh (the benchmark subgraphs are up); prints a
# markdown section. SECURITY_ROUNDS (5) rounds of SECURITY_ROUND_SECONDS (6).
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_DIR/lib/common.sh"
source "$BENCH_DIR/lib/gateways.sh"
trap 'stop_all_started' EXIT

RUN_DIR=${BENCH_RUN_DIR:?run by bench/run.sh}
HUB_BIN=${HUB_BIN:?run by bench/run.sh}
ROUNDS=${SECURITY_ROUNDS:-5}
SECONDS_PER_RUN=${SECURITY_ROUND_SECONDS:-6}
ON_PORT=4310
OFF_PORT=4311
BODY="$RUN_DIR/bodies/deep.json"
OUT="$RUN_DIR/security_rounds.txt"

echo "## Security on and off: the deep query"
echo
port_is_free "$ON_PORT" && port_is_free "$OFF_PORT" || {
  echo "Not run: port $ON_PORT or $OFF_PORT is in use."
  echo
  exit 0
}

# The benchmark supergraph with one directive on the root field the deep
# query starts from.
SCOPED="$RUN_DIR/supergraph-scoped.graphql"
{
  cat "$BENCH_DIR/supergraph.graphql"
  echo
  echo 'directive @requiresScopes(scopes: [[String!]!]!) on OBJECT | FIELD_DEFINITION | INTERFACE | SCALAR | ENUM'
} | sed 's|^  users: \[User!\]! @join__field(graph: USERS)$|  users: [User!]! @join__field(graph: USERS) @requiresScopes(scopes: [["bench:read"]])|' >"$SCOPED"
grep -q 'requiresScopes(scopes: \[\["bench:read"\]\])' "$SCOPED" || {
  echo "Not run: the supergraph has no \`users\` root field to put the directive on."
  echo
  exit 0
}

ON_DIR="$RUN_DIR/hub-security-on"
OFF_DIR="$RUN_DIR/hub-security-off"
rm -rf "$ON_DIR" "$OFF_DIR" && mkdir -p "$ON_DIR" "$OFF_DIR"
# Every limit at its default but the cost, raised (as for the hub in the
# main tables) to admit the deep query's estimate of 12,211.
printf '[gateway]\ninbound_dedup = false\n[rate_limit]\nrequests_per_second = 1000000\nburst = 1000000\n[limits]\nmax_cost = 100000\n' >"$ON_DIR/tellonce.toml"
printf '[gateway]\ninbound_dedup = false\n[authorization]\npublic = ["*"]\n[rate_limit]\nenabled = false\n[limits]\nmax_tokens = 1000000000\nmax_depth = 1000000\nmax_aliases = 1000000000\nmax_root_fields = 1000000000\nmax_directives_per_field = 1000000\nmax_fragment_spreads = 1000000000\nmax_fields = 1000000000\nmax_repeated_fields = 1000000000\nmax_cost = 1000000000000\nrequest_timeout_ms = 600000\nprepare_timeout_ms = 600000\n' >"$OFF_DIR/tellonce.toml"
KEY=$("$HUB_BIN" principal add --config "$ON_DIR/tellonce.toml" --database "$ON_DIR/tellonce.db" \
  --kind frontend --scope bench:read bench 2>>"$RUN_DIR/logs/security.log" | grep -o 'tok_[A-Za-z0-9_-]*' | head -1)
[ -n "$KEY" ] || {
  echo "Not run: \`tellonce principal add\` gave no key (see logs/security.log)."
  echo
  exit 0
}

RUST_LOG=warn "$HUB_BIN" serve --config "$ON_DIR/tellonce.toml" --supergraph "$SCOPED" \
  --listen "127.0.0.1:$ON_PORT" --data-dir "$ON_DIR" --database "$ON_DIR/tellonce.db" \
  >"$RUN_DIR/logs/hub-security-on.log" 2>&1 &
remember_pid $!
RUST_LOG=warn "$HUB_BIN" serve --config "$OFF_DIR/tellonce.toml" --supergraph "$BENCH_DIR/supergraph.graphql" \
  --listen "127.0.0.1:$OFF_PORT" --data-dir "$OFF_DIR" \
  >"$RUN_DIR/logs/hub-security-off.log" 2>&1 &
remember_pid $!
ON_URL="http://127.0.0.1:$ON_PORT/graphql"
OFF_URL="http://127.0.0.1:$OFF_PORT/graphql"
wait_for_graphql "$OFF_URL" "" 60 && wait_for_graphql "$ON_URL" "" 60 || {
  echo "Not run: a hub did not start (see logs/hub-security-*.log)."
  echo
  exit 0
}

# The protections must be real: without the key the deep query is refused,
# with it the answer equals the unprotected hub's.
anonymous=$(curl -s -H 'content-type: application/json' --data-binary "@$BODY" "$ON_URL" | jq -r '.errors[0].extensions.code // "none"')
with_key=$(curl -s -H 'content-type: application/json' -H "authorization: Bearer $KEY" --data-binary "@$BODY" "$ON_URL" | jq -S -c .data)
open=$(curl -s -H 'content-type: application/json' --data-binary "@$BODY" "$OFF_URL" | jq -S -c .data)
if [ "$anonymous" != UNAUTHORIZED_FIELD_OR_TYPE ] || [ "$with_key" != "$open" ] || [ "$open" = null ]; then
  echo "Not measured: the protected hub answered anonymously with \`$anonymous\`, or its answer with the key differs from the open hub's."
  echo
  exit 0
fi

on_off_rounds "$OUT" "$ROUNDS" "$SECONDS_PER_RUN" "$BODY" "$ON_URL" "$OFF_URL" "Bearer $KEY"
stop_all_started

echo "$ROUNDS rounds, one ${SECONDS_PER_RUN} s wrk run (2 s warm-up) per hub per round, the order"
echo "swapped every round; wrk 2 threads, 50 connections. *On*: API key, rate limit checked"
echo "per request, \`@requiresScopes\` on \`users\`, every request limit on (defaults,"
echo "\`max_cost\` 100,000 for the deep query's 12,211). *Off*: anonymous, every field public,"
echo "no rate limit, limits out of reach. Inbound deduplication is off in both, so every"
echo "request is authorized and executed on its own. Any failed request voids a run."
echo
on_off_table "$OUT"
echo
