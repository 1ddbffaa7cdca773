# Rekindle's front door. `make demo` and `make test` work on a fresh Debian machine: they
# install the Debian packages they need (as root), configure, build and run.
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
REKINDLE    = $(BUILD)/cli/rekindle

.PHONY: all deps configure build demo test clean

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
	  --out $(BUILD)/retail-decisions.csv

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
