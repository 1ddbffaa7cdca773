#!/bin/sh
# End-to-end test of the language server: `sh tests/lsp/run.sh PATH_TO_rekindle` (from anywhere).
# Installs the pinned LSP client packages (package-lock.json) on first use, then drives
# `rekindle lsp` with them (e2e.js). Needs node and npm.
set -eu
bin=${1:?usage: sh tests/lsp/run.sh PATH_TO_rekindle}
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/vscode-languageserver-protocol" ]; then
  limit=""
  if command -v timeout >/dev/null 2>&1; then limit="timeout 300"; fi
  if ! (cd "$here" && $limit npm ci --silent --no-audit --no-fund); then
    echo "lsp e2e: FAIL: 'npm ci' in tests/lsp could not install the client packages" >&2
    exit 1
  fi
fi
case $bin in
  /*) ;;
  *) bin=$(pwd)/$bin ;;
esac
exec node "$here/e2e.js" "$bin"
