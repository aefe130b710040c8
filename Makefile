# SPDX-License-Identifier: MIT
# Front door: `make demo` and `make test` install what they need, configure,
# build and run. Everything real is in CMake; this file only sequences it.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
CTEST_J    ?= 2
# ctest through tests/run-ctest: with HETMEM_REQUIRE_ALL=1 (.ci/run) a skipped
# test fails the run (tests/test_skip.h).
CTEST      := $(CURDIR)/tests/run-ctest

.PHONY: all deps build test test-main test-sanitize test-asan test-tsan check-layers demo bench install clean

all: build

deps:
	@scripts/install-deps.sh

# Configuring every time is cheap and keeps the options what this file says,
# whatever an earlier hand-made configure of the same folder chose.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHETMEM_VM_TESTS=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Everything: layering check (on the built objects), the full suite (unit,
# api, layers, install, vm), then the unit and api suites again under
# ASan+UBSan and under TSan.
test: check-layers test-main test-sanitize

test-main: build
	@cd $(BUILD) && $(CTEST) --output-on-failure -j $(CTEST_J)

check-layers: build
	@scripts/check_layers.sh $(BUILD)

test-sanitize: test-asan test-tsan

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DHETMEM_DEBUG=1 \
	    -DHETMEM_SANITIZE=address,undefined -DHETMEM_VM_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(CTEST) --output-on-failure -j $(CTEST_J) -L 'unit|api' -LE nosan

test-tsan: deps
	@cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DHETMEM_DEBUG=1 \
	    -DHETMEM_SANITIZE=thread -DHETMEM_VM_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_TSAN) -j $(JOBS)
	@cd $(BUILD_TSAN) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	    $(CTEST) --output-on-failure -j $(CTEST_J) -L 'unit|api' -LE nosan

demo: build
	@tests/vm/demo.sh $(BUILD)

bench: deps
	@cmake -S . -B $(BUILD) -DHETMEM_BUILD_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake --build $(BUILD) --target run-bench

install: build
	@cmake --install $(BUILD)

clean:
	@rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
