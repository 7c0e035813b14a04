# Installs what the benchmark needs and is missing, into a folder the
# harness owns (BENCH_HOME, default ~/.cache/tellonce-bench), and records
# for each peer gateway whether it is usable: STATUS_DIR/<peer> holds
# "ok <version>" or "missing <reason>". Sourced by bench/run.sh.

BENCH_HOME=${BENCH_HOME:-$HOME/.cache/tellonce-bench}
HIVE_ROUTER_ROOT="$BENCH_HOME/hive-router"
HIVE_ROUTER_BIN="$HIVE_ROUTER_ROOT/bin/hive_router"
APOLLO_GATEWAY_DIR="$BENCH_HOME/apollo-gateway"
HIVE_GATEWAY_DIR="$BENCH_HOME/hive-gateway"
INSTALL_LOGS="$BENCH_HOME/logs"

set_status() { printf '%s\n' "$2" >"$STATUS_DIR/$1"; }
status_of() { cat "$STATUS_DIR/$1" 2>/dev/null || echo "missing not attempted"; }
is_ok() { case "$(status_of "$1")" in ok*) return 0 ;; *) return 1 ;; esac; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# Debian packages the harness itself cannot run without.
install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v jq >/dev/null || missing+=(jq)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (apt)"
  as_root apt-get install -y "${missing[@]}" >"$INSTALL_LOGS/apt.log" 2>&1 ||
    { as_root apt-get update >>"$INSTALL_LOGS/apt.log" 2>&1 &&
      as_root apt-get install -y "${missing[@]}" >>"$INSTALL_LOGS/apt.log" 2>&1; } ||
    die "cannot install ${missing[*]} with apt-get (see $INSTALL_LOGS/apt.log)"
}

# Hive Router: a long release build with the nightly toolchain (it needs
# rustc 1.97); the graphiql feature keeps its build script off the network.
# The installed Hive Router version, from cargo's install record: the
# binary has no --version flag (it starts serving instead).
hive_router_version() {
  sed -n 's/^"hive-router \([^ ]*\) .*/hive-router \1/p' "$HIVE_ROUTER_ROOT/.crates.toml" 2>/dev/null | head -1 | grep . || echo "hive-router (version unknown)"
}

install_hive_router() {
  if [ -x "$HIVE_ROUTER_BIN" ]; then
    set_status hive-router "ok $(hive_router_version)"
    return
  fi
  if [ "${BENCH_SKIP_INSTALL:-0}" = 1 ]; then
    set_status hive-router "missing not installed and BENCH_SKIP_INSTALL=1"
    return
  fi
  if ! cargo +nightly --version >/dev/null 2>&1; then
    set_status hive-router "missing no nightly Rust toolchain to build it (needs rustc 1.97)"
    return
  fi
  local logfile="$INSTALL_LOGS/hive-router-install.log"
  local pidfile="$BENCH_HOME/hive-router-install.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    set_status hive-router "missing its build is still running (pid $(cat "$pidfile"), log $logfile: $(grep -c Compiling "$logfile" 2>/dev/null || echo 0) crates compiled so far)"
    return
  fi
  log "building Hive Router with cargo +nightly (long; log: $logfile)"
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} CARGO_TARGET_DIR="$BENCH_HOME/hive-router-target" \
    nice -n 10 cargo +nightly install hive-router --locked --features graphiql \
    --root "$HIVE_ROUTER_ROOT" >"$logfile" 2>&1 &
  local build=$!
  echo "$build" >"$pidfile"
  if wait "$build" && [ -x "$HIVE_ROUTER_BIN" ]; then
    set_status hive-router "ok $(hive_router_version)"
  else
    set_status hive-router "missing cargo install hive-router failed: $(grep -m1 '^error' "$logfile" || tail -1 "$logfile")"
  fi
}

# An npm package set into its own folder; $1 peer name, $2 folder, $3 the
# package whose version names the peer, the rest the packages.
install_npm_peer() {
  local peer=$1 dir=$2 main=$3
  shift 3
  if ! command -v npm >/dev/null; then
    set_status "$peer" "missing npm is not installed"
    return
  fi
  if [ ! -f "$dir/node_modules/$main/package.json" ]; then
    if [ "${BENCH_SKIP_INSTALL:-0}" = 1 ]; then
      set_status "$peer" "missing not installed and BENCH_SKIP_INSTALL=1"
      return
    fi
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || printf '{"name":"tellonce-bench-%s","private":true,"type":"module"}\n' "$peer" >"$dir/package.json"
    log "installing $peer from npm: $*"
    if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$@" \
      >"$INSTALL_LOGS/$peer-install.log" 2>&1; then
      set_status "$peer" "missing npm install failed: $(grep -m1 -i 'err' "$INSTALL_LOGS/$peer-install.log" || tail -1 "$INSTALL_LOGS/$peer-install.log")"
      return
    fi
  fi
  set_status "$peer" "ok $main $(jq -r .version "$dir/node_modules/$main/package.json"), node $(node --version)"
}

install_all() {
  mkdir -p "$BENCH_HOME" "$INSTALL_LOGS"
  install_tools
  install_npm_peer apollo-gateway "$APOLLO_GATEWAY_DIR" @apollo/gateway @apollo/gateway@2 @apollo/server@5 graphql@16
  install_npm_peer hive-gateway "$HIVE_GATEWAY_DIR" @graphql-hive/gateway @graphql-hive/gateway@2 graphql@16
  install_hive_router
}
