#!/bin/sh
# The TextMate grammar test: syntaxes/rekindle.tmLanguage.json run by the engine VS Code uses
# (vscode-textmate + vscode-oniguruma) over snippets and every .rules file in the repository.
# CTest calls it from the repository root: sh editors/vscode/test/run.sh
# Installs the locked npm packages (npm ci) the first time; needs Node.js and npm.
set -eu

ext_dir=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ext_dir"

if [ ! -d node_modules/vscode-textmate ] || [ ! -d node_modules/vscode-oniguruma ]; then
  echo "run.sh: installing the npm packages of editors/vscode (npm ci)" >&2
  if ! npm ci --silent --no-audit --no-fund; then
    echo "run.sh: npm ci failed in $ext_dir" >&2
    exit 1
  fi
fi

exec node test/grammar.test.js
