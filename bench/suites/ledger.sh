#!/usr/bin/env bash
# Prints the audit ledger's benchmark (appends with receipts and periodic
# checkpoints on SQLite and PostgreSQL, inclusion proofs at ~1 M entries,
# whole-ledger verification) as a markdown section of the bench report.
# LEDGER_BENCH_ENTRIES sets the ledger size (default 1,000,000).
set -uo pipefail
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_DIR" || exit 1
echo "## Audit ledger"
echo
echo "\`cargo bench --bench ledger\` with LEDGER_BENCH_ENTRIES=${LEDGER_BENCH_ENTRIES:-1000000}:"
echo
echo '```'
cargo bench --quiet --bench ledger 2>/dev/null | grep -v '^$'
status=${PIPESTATUS[0]}
echo '```'
echo
exit "$status"
