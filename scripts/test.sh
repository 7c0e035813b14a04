#!/usr/bin/env bash
# The whole test suite: starts the services it needs, then runs every test of
# the workspace (SQLite and PostgreSQL backends, real subgraphs on ephemeral
# ports, the hub's pages in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
scripts/browser.sh
cargo test --workspace --no-fail-fast "$@"
