#!/usr/bin/env bash
# Border coordination figures for the bench report: declarations per second
# end to end with the six example agencies running locally, the p50/p99
# time from declaration to a complete plan, and the slowest agency's own
# p99 beside it, at 16, 32 and 64 concurrent clients. BORDER_BENCH_DECLARATIONS
# and BORDER_BENCH_CONCURRENCY (a comma-separated list) tune it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cargo_bench_section.sh"
cargo_bench_section "Border coordination" border "BORDER_BENCH_DECLARATIONS=${BORDER_BENCH_DECLARATIONS:-5000}"
