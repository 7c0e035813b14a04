#!/usr/bin/env bash
# Refreshes assets/graphiql/ from the npm registry: the published UMD builds
# of GraphiQL, React and ReactDOM, with their licences. The hub serves these
# files itself, so its GraphiQL works with no network beyond the hub.
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL=3.9.0
REACT=18.3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm checks each tarball against the registry's integrity hash.
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for pkg in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir "$work/$pkg"
  tar xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
out=assets/graphiql
rm -rf "$out"
mkdir -p "$out"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/"
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE.graphiql"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$out/"
cp "$work/react-$REACT/package/LICENSE" "$out/LICENSE.react"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$out/"
cp "$work/react-dom-$REACT/package/LICENSE" "$out/LICENSE.react-dom"
# The source maps are not shipped; browsers need not look for them.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/*.js
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > "$out/VERSIONS"
echo "assets/graphiql: GraphiQL $GRAPHIQL, React $REACT"
