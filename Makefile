# Rekindle's front door. `make demo` and `make test` work on a fresh Debian machine: they
# install the Debian packages they need (as root), configure, build and run.
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
REKINDLE    = $(BUILD)/cli/rekindle

.PHONY: all deps configure build demo test test-asan fuzz bench clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(REKINDLE) run examples/retail/retail.rules --config examples/retail/rekindle.yaml \
	  --out $(BUILD)/retail-decisions.csv --report $(BUILD)/retail-report.html

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREKINDLE_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang): FUZZ_SECONDS per target, two at a time.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# The benchmark (bench/RESULTS.md): Rekindle against SQLite, pandas, json-rules-engine and
# hand-written C++ on a generated export of BENCH_CUSTOMERS customers (about 20 events each),
# in its own Release build. `make bench BENCH_CUSTOMERS=1000000` is the 1M / 20M run.
BENCH_CUSTOMERS ?= 100000
bench:
	@BENCH=1 scripts/deps.sh
	@cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build build-bench -j $(JOBS) --target rekindle rekindle_bench_gen rekindle_bench_handwritten rekindle_bench_decide rekindle_bench_read
	@[ -d bench/node/node_modules ] || (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
	@BENCH_CUSTOMERS=$(BENCH_CUSTOMERS) bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
