#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each on its seed corpus for
# SECONDS (default 60), two at a time. Crashes land in build-fuzz/crashes; once fixed, copy the
# input into tests/fuzz/regressions/TARGET/ so `make test` replays it forever.
set -eu
SECONDS_EACH=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
"$root/scripts/deps.sh" clang libclang-rt-14-dev
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREKINDLE_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_frontend fuzz_csv fuzz_jsonl fuzz_rkb rekindle

corpus="$build/corpus"
mkdir -p "$corpus/frontend" "$corpus/csv" "$corpus/jsonl" "$corpus/rkb" "$build/crashes"
cd "$root"
for f in tests/conformance/*.rules tests/diagnostics/*.rules examples/*/*.rules stdlib/std/*.rules; do
  cp "$f" "$corpus/frontend/$(echo "$f" | tr / _)"
done
for f in tests/suites/csv-spectrum/csvs/*.csv tests/conformance/data/*.csv tests/engine/*.csv; do
  cp "$f" "$corpus/csv/$(echo "$f" | tr / _)"
done
head -c 20000 examples/retail/data/events.csv > "$corpus/csv/retail_events_head.csv"
for f in tests/suites/JSONTestSuite/test_parsing/y_*.json; do cp "$f" "$corpus/jsonl/"; done
printf '{"a":1,"b":"x","c":null}\n{"a":2.5e3,"b":"\\u00e9","c":true}\n\n{"b":[1]}\n' > "$corpus/jsonl/lines.jsonl"
for f in tests/conformance/*.rules; do
  "$build/cli/rekindle" compile "$f" --config tests/conformance/rekindle.yaml -o "$corpus/rkb/$(basename "$f" .rules).rkb" 2>/dev/null || true
done
for t in frontend csv jsonl rkb; do cp tests/fuzz/regressions/$t/* "$corpus/$t/" 2>/dev/null || true; done

# Runs one target; reports runs, CPU seconds (user + system: what the fuzzer really got on a
# busy machine) and crashes, and appends them to build-fuzz/cpu-seconds.log for the totals.
run() {
  TIMEFORMAT="%U %S"
  local cpu
  cpu=$( { time "$build/tests/fuzz_$1" "$corpus/$1" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
           -artifact_prefix="$build/crashes/$1-" -print_final_stats=1 > "$build/fuzz_$1.log" 2>&1 ; } 2>&1 | awk '{print $1 + $2}')
  echo "$1 $cpu" >> "$build/cpu-seconds.log"
  echo "fuzz_$1: $(grep -E '^stat::number_of_executed_units' "$build/fuzz_$1.log" | awk '{print $2}') runs, ${cpu}s of CPU" \
       "(total $(awk -v t="$1" '$1 == t {s += $2} END {print s}' "$build/cpu-seconds.log")s)," \
       "$(ls "$corpus/$1" | wc -l) corpus inputs, $(ls "$build/crashes" | grep -c "^$1-" || true) crashes"
}
run frontend & run csv & wait
run jsonl & run rkb & wait
if ls "$build/crashes" | grep -q .; then
  echo "Crashes found, in $build/crashes:"; ls "$build/crashes"; exit 1
fi
