#!/usr/bin/env bash
# The benchmark (`make bench`): generates a retail export, runs Rekindle on
# examples/retail/retail.rules and every peer on the same export, checks that each peer's
# decisions equal Rekindle's before its time counts, and prints them side by side. Also: the
# decision pass alone in memory, the memory footprint per event, and the compile time of
# 200- and 1,000-row tables. See bench/RESULTS.md.
#
# Settings (environment): BENCH_CUSTOMERS (100000), BENCH_SEED (1), BENCH_BUILD (build-bench),
# BENCH_PEERS ("handwritten pandas sqlite node"), BENCH_TIMEOUT (seconds per peer, 1800),
# BENCH_THREADS (Rekindle's --threads; empty = its default, the cores).
set -euo pipefail

cd "$(dirname "$0")/.."
N=${BENCH_CUSTOMERS:-100000}
SEED=${BENCH_SEED:-1}
BUILD=${BENCH_BUILD:-build-bench}
PEERS=${BENCH_PEERS:-handwritten pandas sqlite node}
TIMEOUT=${BENCH_TIMEOUT:-1800}
THREADS=${BENCH_THREADS:-}
REKINDLE=$BUILD/cli/rekindle
RULES=examples/retail/retail.rules
CONFIG=bench/rekindle.yaml
DATA=$BUILD/bench-data/$N-$SEED
OUT=$BUILD/bench-out/$N-$SEED
REPORT=$BUILD/bench-results-$N-$SEED.txt
PY=/usr/bin/python3  # Debian's, with python3-pandas
mkdir -p "$DATA" "$OUT"
: >"$REPORT"

say() { echo "$@" | tee -a "$REPORT"; }

# Wall seconds and peak RSS (KB) of a command, into the globals WALL and RSS; its status into RC.
measure() {
  local log=$OUT/time.txt
  RC=0
  /usr/bin/time -f "%e %M" -o "$log" timeout "$TIMEOUT" "$@" >"$OUT/stdout.txt" 2>"$OUT/stderr.txt" || RC=$?
  read -r WALL RSS <"$log" || { WALL=0; RSS=0; }
  if [ "$RC" = 124 ]; then WALL=timeout; fi
}

# The export, once per size and seed (CSV for everyone, JSONL for Rekindle's second row).
for fmt in csv jsonl; do
  if [ ! -s "$DATA/events.$fmt" ]; then
    /usr/bin/time -f "%e" -o "$OUT/gen-$fmt.txt" "$BUILD/bench/rekindle_bench_gen" --customers "$N" --seed "$SEED" --format "$fmt" --out "$DATA"
  fi
done
EVENTS=$(($(wc -l <"$DATA/events.csv") - 1))
say "bench: $N customers, $EVENTS events ($(du -m "$DATA/events.csv" | cut -f1) MB events.csv), seed $SEED; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(($(grep MemTotal /proc/meminfo | awk '{print $2}') / 1024 / 1024)) GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# A baseline for bytes per event: Rekindle's peak RSS deciding the 329-customer retail example.
measure "$REKINDLE" run "$RULES" --config examples/retail/rekindle.yaml --out "$OUT/baseline.csv" --quiet
BASE_RSS=$RSS

rows=()
row() {  # name, wall, rss KB, equal?
  rows+=("$1|$2|$3|$4")
}

threads_arg=()
[ -n "$THREADS" ] && threads_arg=(--threads "$THREADS")
measure "$REKINDLE" run "$RULES" --config "$CONFIG" --customers "$DATA/customers.csv" --events "$DATA/events.csv" \
  --out "$OUT/rekindle.csv" "${threads_arg[@]}"
[ "$RC" = 0 ] || { cat "$OUT/stderr.txt" >&2; echo "bench: rekindle run failed" >&2; exit 1; }
REK_WALL=$WALL
REK_RSS=$RSS
row "rekindle (csv, ${THREADS:-$(nproc)} threads)" "$WALL" "$RSS" reference
cp "$OUT/stderr.txt" "$OUT/rekindle-summary.txt"

measure "$REKINDLE" run "$RULES" --config "$CONFIG" --customers "$DATA/customers.csv" --events "$DATA/events.csv" \
  --out "$OUT/rekindle-1.csv" --threads 1 --quiet
row "rekindle (csv, 1 thread)" "$WALL" "$RSS" "$(cmp -s "$OUT/rekindle-1.csv" "$OUT/rekindle.csv" && echo identical || echo DIFFERENT)"

measure "$REKINDLE" run "$RULES" --config "$CONFIG" --customers "$DATA/customers.jsonl" --events "$DATA/events.jsonl" \
  --out "$OUT/rekindle-jsonl.csv" "${threads_arg[@]}" --quiet
row "rekindle (jsonl input)" "$WALL" "$RSS" "$(cmp -s "$OUT/rekindle-jsonl.csv" "$OUT/rekindle.csv" && echo identical || echo DIFFERENT)"

measure "$REKINDLE" run bench/stress.rules --config "$CONFIG" --customers "$DATA/customers.csv" --events "$DATA/events.csv" \
  --out "$OUT/stress.csv" "${threads_arg[@]}" --quiet
row "rekindle (200-row stress.rules)" "$WALL" "$RSS" "(other rules)"

for peer in $PEERS; do
  case $peer in
    handwritten) cmd=("$BUILD/bench/rekindle_bench_handwritten" --customers "$DATA/customers.csv" --events "$DATA/events.csv" --out "$OUT/$peer.csv") ;;
    pandas) cmd=("$PY" bench/pandas_peer.py --customers "$DATA/customers.csv" --events "$DATA/events.csv" --out "$OUT/$peer.csv") ;;
    sqlite) cmd=(bench/sqlite_peer.sh "$DATA/customers.csv" "$DATA/events.csv" "$OUT/$peer.csv") ;;
    node) cmd=(node bench/node/peer.js --customers "$DATA/customers.csv" --events "$DATA/events.csv" --out "$OUT/$peer.csv") ;;
    *) echo "bench: unknown peer $peer" >&2; exit 2 ;;
  esac
  rm -f "$OUT/$peer.csv"
  measure "${cmd[@]}"
  if [ "$WALL" = timeout ]; then
    row "$peer" "did not finish in $((TIMEOUT / 60)) min" "$RSS" "-"
  elif [ "$RC" != 0 ]; then
    tail -5 "$OUT/stderr.txt" >&2
    row "$peer" "failed (status $RC)" "$RSS" "-"
  elif cmp -s "$OUT/$peer.csv" "$OUT/rekindle.csv"; then
    row "$peer" "$WALL" "$RSS" "identical"
  else
    echo "bench: $peer's decisions differ from Rekindle's:" >&2
    "$PY" bench/compare.py "$OUT/rekindle.csv" "$OUT/$peer.csv" >&2 || true
    row "$peer" "DIFFERENT (time does not count)" "$RSS" "DIFFERENT"
  fi
done

say ""
say "end to end (generate excluded; read + decide + write), $N customers, $EVENTS events:"
printf '  %-32s %10s %14s %14s %10s %10s  %s\n' "" "seconds" "customers/s" "events/s" "peak MB" "vs rekindle" "decisions" | tee -a "$REPORT"
for r in "${rows[@]}"; do
  IFS='|' read -r name wall rss equal <<<"$r"
  if [[ $wall =~ ^[0-9.]+$ ]]; then
    printf '  %-32s %10.2f %14.0f %14.0f %10.0f %9.1fx  %s\n' "$name" "$wall" \
      "$(echo "$N / $wall" | bc -l)" "$(echo "$EVENTS / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
      "$(echo "$wall / $REK_WALL" | bc -l)" "$equal" | tee -a "$REPORT"
  else
    printf '  %-32s %s (peak %s MB)\n' "$name" "$wall" "$((rss / 1024))" | tee -a "$REPORT"
  fi
done
say "  memory: rekindle peak $((REK_RSS / 1024)) MB, baseline $((BASE_RSS / 1024)) MB (the 329-customer example): $(echo "($REK_RSS - $BASE_RSS) * 1024 / $EVENTS" | bc) bytes per event"

say ""
say "decision pass alone, in memory (rekindle_bench_decide; best of 3):"
"$BUILD/bench/rekindle_bench_decide" "$RULES" --config "$CONFIG" --customers "$DATA/customers.csv" --events "$DATA/events.csv" \
  --threads "${THREADS:-$(nproc)}" | sed 's/^/  /' | tee -a "$REPORT"
if [[ " $PEERS " == *" handwritten "* ]]; then
  # The same work as prepare + decide (every table, both budgets), on the same huge pages.
  say "  the hand-written program's deciding alone, 1 thread (compare with prepare + decide, not decide alone):"
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "$BUILD/bench/rekindle_bench_handwritten" --customers "$DATA/customers.csv" \
    --events "$DATA/events.csv" --out "$OUT/handwritten-1.csv" --threads 1 2>&1 >/dev/null | sed 's/^/  /' | tee -a "$REPORT"
fi

say ""
say "the readers alone, every column (rekindle_bench_read; best of 3, one core):"
for f in "$DATA/events.csv" "$DATA/events.jsonl" "$DATA/customers.csv"; do
  cols=$(head -1 "$DATA/$(basename "$f" | sed 's/\.jsonl$/.csv/')")
  "$BUILD/bench/rekindle_bench_read" "$f" --columns "$cols" | sed 's/^/  /' | tee -a "$REPORT"
done

say ""
say "compile (rekindle compile, best of 5 wall; user+sys CPU):"
"$PY" bench/stress_rules.py 1000 >"$OUT/stress-1000.rules"
for rules in bench/stress.rules "$OUT/stress-1000.rules"; do
  best=999 cpu=999
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %U %S" -o "$OUT/time.txt" "$REKINDLE" compile "$rules" -o "$OUT/stress.rkb" --config "$CONFIG"
    read -r e u s <"$OUT/time.txt"
    best=$(echo "if ($e < $best) $e else $best" | bc -l)
    cpu=$(echo "if ($u + $s < $cpu) $u + $s else $cpu" | bc -l)
  done
  say "  $(basename "$rules") ($(grep -c ' when \| otherwise' "$rules") table rows in all): $(printf '%.0f' "$(echo "$best * 1000" | bc -l)") ms wall, $(printf '%.0f' "$(echo "$cpu * 1000" | bc -l)") ms CPU"
done
say ""
say "report: $REPORT; outputs in $OUT"
