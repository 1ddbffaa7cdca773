#!/bin/sh
# Installs the Debian packages Rekindle needs to build and test. As root it installs what is
# missing; otherwise it prints the exact apt-get line and fails, so nothing half-works.
set -eu
PKGS="make g++ cmake ninja-build pkg-config antlr4 default-jre-headless libantlr4-runtime-dev \
libyaml-cpp-dev libfmt-dev catch2 libsimdjson-dev nlohmann-json3-dev libcli11-dev \
libhowardhinnant-date-dev zlib1g-dev libboost-math-dev tzdata ca-certificates $*"
# BENCH=1 (make bench): the benchmark's peers and its measuring tools.
[ "${BENCH:-}" = 1 ] && PKGS="$PKGS sqlite3 python3-pandas time bc"
# The editor tests drive the language server and the TextMate grammar with Node.js tooling.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# The report's end-to-end test renders it in headless Chromium.
command -v chromium >/dev/null 2>&1 || PKGS="$PKGS chromium"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "Installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "Rekindle needs these Debian packages. Run, as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
