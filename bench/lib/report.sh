# Renders the markdown report from RESULTS (one tab-separated row per
# measurement: gateway, dedup variant, query, req/s, p50 ms, p99 ms, errors,
# peak RSS MiB, bytes per response, expected bytes, response check).
# Sourced by bench/run.sh.

query_title() {
  case $1 in
    deep) echo "Deep query" ;;
    single) echo "Single-subgraph query (products)" ;;
    large-list) echo "Large list of entities (1000 products joined with inventory)" ;;
    mutation) echo "Mutation (reviews, joined with products, inventory and users)" ;;
    *) echo "$1" ;;
  esac
}

# One row's field N for GATEWAY VARIANT QUERY, or empty.
result_field() {
  awk -F'\t' -v g="$1" -v v="$2" -v q="$3" -v n="$4" '$1 == g && $2 == v && $3 == q { print $n; exit }' "$RESULTS"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "failed" || b == "failed" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

response_size_kb() {
  local file="$RUN_DIR/responses/hub.$1.json"
  [ -s "$file" ] && awk -v b="$(wc -c <"$file")" 'BEGIN { printf "%.1f KB", b / 1000 }' || echo "unknown size"
}

# The response column: the check against the hub, and whether the bytes
# wrk read per response match one good response (a cheap way to catch
# error answers under load, which carry HTTP 200 too).
response_cell() {
  local check=$1 per=$2 expected=$3
  local cell
  case $check in
    reference) cell="reference" ;;
    same) cell="= hub" ;;
    differs) cell="**differs from hub**" ;;
    unchecked) cell="unchecked" ;;
    *) cell="$check" ;;
  esac
  if [ -n "$per" ] && [ -n "$expected" ] && [ "$expected" -gt 0 ] 2>/dev/null; then
    if awk -v p="$per" -v e="$expected" 'BEGIN { d = p - e; if (d < 0) d = -d; exit !(d > 64 && d > e * 0.05) }'; then
      cell="$cell; **${per} B/response under load vs ${expected} B**"
    fi
  fi
  echo "$cell"
}

# A table row for GATEWAY VARIANT QUERY against the hub's row HUB_VARIANT.
table_row() {
  local gateway=$1 variant=$2 query=$3 hub_variant=$4
  local title
  title=$(gateway_title "$gateway")
  [ "$variant" = on ] && title="$title (inbound dedup on)"
  local rps p50 p99 errors peak per expected check
  rps=$(result_field "$gateway" "$variant" "$query" 4)
  if [ -z "$rps" ]; then
    local why
    if [ "$variant" = on ] && ! supports_inbound_dedup "$gateway"; then
      why="n/a: $(inbound_dedup_note "$gateway")"
    elif is_ok "$gateway"; then
      why="not run"
    else
      why="not available (see Gateways)"
    fi
    echo "| $(gateway_title "$gateway") | $why | | | | | | | |"
    return
  fi
  check=$(result_field "$gateway" "$variant" "$query" 11)
  if [ "$rps" = failed ]; then
    echo "| $title | **failed** ($check) | | | | | | | |"
    return
  fi
  if awk -v r="$rps" 'BEGIN { exit !(r + 0 == 0) }'; then
    echo "| $title | **no request completed in ${DURATION} s** | 0 | | | $(result_field "$gateway" "$variant" "$query" 7) | $(result_field "$gateway" "$variant" "$query" 8) | 0.00 | |"
    return
  fi
  p50=$(result_field "$gateway" "$variant" "$query" 5)
  p99=$(result_field "$gateway" "$variant" "$query" 6)
  errors=$(result_field "$gateway" "$variant" "$query" 7)
  peak=$(result_field "$gateway" "$variant" "$query" 8)
  per=$(result_field "$gateway" "$variant" "$query" 9)
  expected=$(result_field "$gateway" "$variant" "$query" 10)
  local hub_rps hub_p99
  hub_rps=$(result_field hub "$hub_variant" "$query" 4)
  hub_p99=$(result_field hub "$hub_variant" "$query" 6)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$title" \
    "$(response_cell "$check" "$per" "$expected")" "$rps" "$p50" "$p99" "$errors" "$peak" \
    "$(ratio "$rps" "$hub_rps")" "$(ratio "$p99" "$hub_p99")"
}

table_header() {
  echo "| gateway | response | req/s | p50 ms | p99 ms | errors | peak RSS MiB | req/s ÷ hub | p99 ÷ hub |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
}

# A target line: the measured ratio, the goal and whether it is met.
target_line() {
  local label=$1 value=$2 op=$3 goal=$4
  local verdict
  if [ "$value" = n/a ]; then
    verdict="not measured"
  elif awk -v v="$value" -v g="$goal" -v op="$op" 'BEGIN { exit !((op == ">=" && v >= g) || (op == "<=" && v <= g)) }'; then
    verdict="met"
  else
    verdict="**not met**"
  fi
  echo "| $label | $value | $op $goal | $verdict |"
}

machine_section() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "- CPUs (nproc): $(nproc); CPU: ${cpu:-unknown}"
  echo "- Memory: $mem; kernel $(uname -r); $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "- Load average (1, 5, 15 min) at start: $LOAD_AT_START; at end: $LOAD_AT_END (the machine is shared: absolute figures swing between runs, ratios within one run are what count)"
  echo "- wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $THREADS threads, $CONNECTIONS connections, ${WARMUP} s warm-up then ${DURATION} s measured per row; everything on 127.0.0.1"
}

render_report() {
  local commit
  commit=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
  echo "# tellonce side-by-side benchmark"
  echo
  echo "Run $STARTED_AT on commit \`$commit\` with \`$COMMAND_LINE\`."
  echo
  echo "## Machine and settings"
  echo
  machine_section
  echo
  echo "## Gateways"
  echo
  echo "| gateway | version / status |"
  echo "| --- | --- |"
  local gateway
  for gateway in "${GATEWAYS[@]}"; do
    local status
    status=$(status_of "$gateway")
    case $status in
      ok*) status=${status#ok } ;;
      *) status="**not available: ${status#missing }**" ;;
    esac
    echo "| $(gateway_title "$gateway") | $status |"
  done
  echo
  echo "All gateways serve the same supergraph (\`bench/supergraph.graphql\`) over the same four"
  echo "benchmark subgraphs (\`bench/subgraphs\`, async-graphql, release build, one process, one worker"
  echo "thread per subgraph). Node gateways run as one process (their default)."
  echo
  echo "## Targets"
  echo
  echo "| target | measured | goal | |"
  echo "| --- | ---: | --- | --- |"
  target_line "deep query req/s, hub ÷ Hive Router, inbound dedup off for both" \
    "$(ratio "$(result_field hub off deep 4)" "$(result_field hive-router off deep 4)")" ">=" 1.2
  target_line "deep query req/s, hub ÷ Hive Router, inbound dedup on for both" \
    "$(ratio "$(result_field hub on deep 4)" "$(result_field hive-router on deep 4)")" ">=" 1.2
  target_line "single-subgraph req/s, hub ÷ subgraph directly" \
    "$(ratio "$(result_field hub off single 4)" "$(result_field subgraph off single 4)")" ">=" 0.9
  target_line "deep query p99, hub ÷ Hive Router (dedup off)" \
    "$(ratio "$(result_field hub off deep 6)" "$(result_field hive-router off deep 6)")" "<=" 1.0
  echo
  echo "The dedup-on rows run the hub with \`[gateway] inbound_dedup = true\` (its default) and"
  echo "Hive Router with its inbound deduplication on; every other row runs both with it off."
  echo "Outbound (subgraph request) deduplication is each gateway's default in every row: on in"
  echo "the hub (\`[gateway] outbound_dedup\`), Hive Router and Hive Gateway; Apollo Gateway runs with its defaults."
  echo "Every wrk connection sends the same query, so a gateway with outbound deduplication sends"
  echo "the subgraph fewer requests than it receives: the single-subgraph row can exceed the"
  echo "subgraph queried directly."
  echo
  local query
  for query in "${QUERIES[@]}"; do
    echo "## $(query_title "$query") — $(response_size_kb "$query")"
    echo
    table_header
    [ "$query" = single ] && table_row subgraph off single off
    for gateway in "${GATEWAYS[@]}"; do
      table_row "$gateway" off "$query" off
    done
    echo
    if [ "$query" = deep ]; then
      echo "### Deep query with inbound request deduplication on"
      echo
      table_header
      for gateway in "${GATEWAYS[@]}"; do
        table_row "$gateway" on deep on
      done
      echo
      echo "Ratios in this table are to the hub's dedup-on row."
      echo
    fi
  done
  echo "## How to read this"
  echo
  echo "- **response**: the gateway's answer to one request before the load, compared with the hub's"
  echo "  as JSON with keys sorted. Under load, wrk counts the bytes it reads; when the bytes per response"
  echo "  differ from one good response by more than 5 % the cell says so (error answers carry HTTP 200 too)."
  echo "- **errors**: socket errors, timeouts (10 s) and HTTP statuses of 400 and above, as wrk counts them."
  echo "- **peak RSS**: the largest resident memory of the gateway's process tree, sampled from /proc every"
  echo "  250 ms during warm-up and measurement (for the subgraph row: the process serving all four subgraphs)."
  echo "- **÷ hub**: this gateway's figure divided by the hub's for the same query; above 1 in req/s means faster"
  echo "  than the hub, above 1 in p99 means slower."
  if [ -s "$EXTRA_SECTIONS" ]; then
    echo
    cat "$EXTRA_SECTIONS"
  fi
}
