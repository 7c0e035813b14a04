#!/usr/bin/env bash
# Prints the tell-us-once benchmark (life events accepted per second with
# the receipt returned over HTTP, notifications delivered per second, the
# example departments running locally) as a markdown section of the bench
# report. TELLONCE_BENCH_EVENTS and TELLONCE_BENCH_CONCURRENCY tune it.
set -uo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_DIR" || exit 1
echo "## Tell us once"
echo
echo "\`cargo bench --bench tellonce\` with TELLONCE_BENCH_EVENTS=${TELLONCE_BENCH_EVENTS:-10000}:"
echo
echo '```'
cargo bench --quiet --bench tellonce 2>/dev/null | grep -v '^$'
status=${PIPESTATUS[0]}
echo '```'
echo
exit "$status"
