# shmrec: the two commands of the quick start, and a few more.
#   make demo   install missing Debian packages, build, run memwrite + memread
#   make test   install missing Debian packages, build, run every test (ctest)
#   make check  test, then the sanitizer builds, a short fuzz run and a short soak (CI runs this)
# Nothing here needs more than a fresh Debian 12 with git; run as root (or with sudo).

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test check test-asan test-tsan fuzz soak clean

FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
# Sanitizer builds skip what they do not need: samples, the benchmark.
SANITIZER_ARGS = -DSHMREC_BUILD_SAMPLES=OFF -DSHMREC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug

all: build

deps:
	@tools/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@samples/demo.sh $(BUILD_DIR)/samples

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan -G Ninja $(SANITIZER_ARGS) -DSHMREC_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900 -LE no-asan

# The in-process concurrency tests (writer and reader threads on one mapping) under
# ThreadSanitizer; TSan cannot follow a peer in another process.
test-tsan: deps
	@cmake -S . -B build-tsan -G Ninja $(SANITIZER_ARGS) -DSHMREC_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && ctest --output-on-failure -j $(JOBS) --timeout 900 -L tsan

check: test test-asan test-tsan fuzz soak

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
