#!/usr/bin/env bash
# Tell-us-once figures for the bench report: life events accepted per second
# (receipt returned over HTTP) and notifications delivered per second, with
# the example departments running locally. TELLONCE_BENCH_EVENTS and
# TELLONCE_BENCH_CONCURRENCY tune it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cargo_bench_section.sh"
cargo_bench_section "Tell us once" tellonce "TELLONCE_BENCH_EVENTS=${TELLONCE_BENCH_EVENTS:-10000}"
