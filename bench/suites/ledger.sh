#!/usr/bin/env bash
# The audit ledger's figures for the bench report: appends with receipts and
# periodic checkpoints on SQLite and PostgreSQL, inclusion proofs at ~1 M
# entries, whole-ledger verification. LEDGER_BENCH_ENTRIES sets the size.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cargo_bench_section.sh"
cargo_bench_section "Audit ledger" ledger "LEDGER_BENCH_ENTRIES=${LEDGER_BENCH_ENTRIES:-1000000}"
