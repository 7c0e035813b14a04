# Runs one `cargo bench` target of the hub and prints its output as a
# markdown section of the bench report. Sourced by bench/suites/*.sh.
# usage: cargo_bench_section TITLE BENCH "SETTINGS"

cargo_bench_section() {
  local title=$1 bench=$2 settings=$3
  cd "$(dirname "${BASH_SOURCE[0]}")/../.." || return 1
  echo "## $title"
  echo
  echo "\`cargo bench --bench $bench\` with $settings:"
  echo
  echo '```'
  cargo bench --quiet --bench "$bench" 2>/dev/null | grep -v '^$'
  local status=${PIPESTATUS[0]}
  echo '```'
  echo
  return "$status"
}
