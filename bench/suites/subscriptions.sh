#!/usr/bin/env bash
# Real-time figures for the bench report: WebSocket subscribers following
# lifeEvents on one hub (SQLite, in-process broker) and on two hubs (one
# PostgreSQL, Redis), the latency from tellUsOnce returning to the event
# reaching every subscriber, and the hub's memory per subscriber.
# SUBSCRIPTION_BENCH_SUBSCRIBERS and SUBSCRIPTION_BENCH_EVENTS tune it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cargo_bench_section.sh"
cargo_bench_section "Subscriptions" subscriptions "SUBSCRIPTION_BENCH_SUBSCRIBERS=${SUBSCRIPTION_BENCH_SUBSCRIBERS:-10000}"
