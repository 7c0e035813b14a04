#!/usr/bin/env bash
# Regenerates bench/supergraph.graphql from the benchmark subgraphs' SDL:
# exports each subgraph's SDL (bench/subgraphs/sdl), composes them with the
# hub's composer, and drops the hub's own subgraph, which `tellonce compose`
# always adds, so that every gateway serves the same four subgraphs.
# usage: bench/compose.sh [TELLONCE_BIN] [BENCH_SUBGRAPHS_BIN]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tellonce=${1:-target/release/tellonce}
subgraphs=${2:-target/release/bench-subgraphs}
for name in users products reviews inventory; do
  "$subgraphs" --print-sdl "$name" >"bench/subgraphs/sdl/$name.graphql"
done
composed=$(mktemp)
trap 'rm -f "$composed"' EXIT
"$tellonce" compose --config bench/compose.toml --output "$composed"
# Blocks are separated by blank lines; a block that joins only the hub graph
# is the hub's, and so is the hub's join__Graph value. The link and join
# directive definitions are replaced with the canonical ones of the specs the
# schema links (link v1.0, join v0.3, inaccessible v0.2), which stricter
# gateways require to be present and repeatable.
awk -v prelude="$(cat bench/supergraph-prelude.graphql)" 'BEGIN { RS = ""; ORS = "\n\n" }
  NR == 1 { print; print prelude; next }
  /^directive @join__/ || /^scalar join__FieldSet/ { next }
  /^directive @link\(/ || /^directive @inaccessible / || /^scalar link__Import/ || /^enum link__Purpose/ { next }
  {
    if ($0 ~ /@join__type\(graph: HUB\)/ && $0 !~ /@join__type\(graph: (USERS|PRODUCTS|REVIEWS|INVENTORY)/) next
    gsub(/\n  HUB @join__graph\(name: "hub", url: "inprocess:\/\/hub"\)/, "")
    print
  }' "$composed" | sed -e '$ { /^$/d }' >bench/supergraph.graphql
if grep -q HUB bench/supergraph.graphql; then
  echo "the hub subgraph is still in bench/supergraph.graphql" >&2
  exit 1
fi
"$tellonce" check bench/supergraph.graphql
