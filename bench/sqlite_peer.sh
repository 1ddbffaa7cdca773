#!/bin/sh
# The SQLite peer: imports the export into an in-memory database with the sqlite3 shell and
# runs bench/sqlite_peer.sql, which writes the decisions file.
#   bench/sqlite_peer.sh CUSTOMERS.csv EVENTS.csv OUT.csv
set -eu
[ $# -eq 3 ] || { echo "usage: $0 CUSTOMERS.csv EVENTS.csv OUT.csv" >&2; exit 2; }
here=$(dirname "$0")
{
  printf '.bail on\n.import --csv %s customers\n.import --csv %s events\n' "$1" "$2"
  sed "s#__OUT__#$3#" "$here/sqlite_peer.sql"
} | sqlite3 -batch :memory:
