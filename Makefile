# shmrec: the two commands of the quick start, and a few more.
#   make demo   install missing Debian packages, build the two samples, run memwrite + memread
#   make test   install missing Debian packages, build, run every test (ctest)
#   make bench  also install iceoryx + gnuplot, build Release in $(BENCH_DIR), run shmrec-bench
#               (~2-3 min), write $(BUILD_DIR)/bench/results.json and latency.png
#   make bench-bridge  build shmrec-bridge and its benchmark (Release, in $(BENCH_DIR)) and run it
#               (~1-2 min; root, network namespaces): the bridge between two simulated hosts
#               against Cyclone's ddsperf, issue 12's targets; writes
#               $(BUILD_DIR)/bench/bridge-results.json; options in BENCH_BRIDGE_ARGS (see
#               shmrec-bridge-bench --help). Not run by test or check
#   make check  test, then the sanitizer builds, a short fuzz run and a short soak (CI runs this)
#   make test-windows  also install MinGW-w64 + Wine, cross-build for Windows in $(WIN_BUILD_DIR)
#               (runtime, samples, the tests that apply) and run the tests there with ctest under
#               Wine; shmrec-gen runs natively ($(BUILD_DIR)/codegen/shmrec-gen, built first)
#   make demo-windows  the demo with the Windows memwrite.exe/memread.exe under Wine
# Nothing here needs more than a fresh Debian 12 with git; run as root (or with sudo).

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
# RelWithDebInfo's debug information: line tables only (-g1). Backtraces and sanitizer reports
# keep file:line, and the tree compiles ~20 % faster than with full -g (GCC 12); DEBUG_INFO=-g
# for a debugger's view of local variables.
DEBUG_INFO ?= -g1
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
BENCH_DIR  ?= build-bench
BENCH_ARGS ?=
BENCH_BRIDGE_ARGS ?=

# Windows: a MinGW-w64 cross build, run under Wine (cmake/toolchains/mingw-w64-x86_64.cmake;
# tools/windows/wine-session.sh keeps the Wine prefix, <build>/wine-prefix, and one wineserver).
WIN_BUILD_DIR  ?= build-windows
# Release at -O2 (set below): no debug info, a third less compile time on 2 cores; -O3 would
# add GCC 12's false -Wrestrict warnings on std::string.
WIN_BUILD_TYPE ?= Release
WIN_CMAKE_ARGS ?=
WIN_PACKAGES    = g++-mingw-w64-x86-64-posix wine64 wine googletest
WINE           ?= /usr/lib/wine/wine64
WIN_SESSION     = tools/windows/wine-session.sh $(WIN_BUILD_DIR)

.PHONY: all deps configure build build-demo demo test check test-asan test-tsan fuzz soak bench bench-bridge clean \
	deps-windows native-gen configure-windows build-windows test-windows demo-windows

FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
# Sanitizer builds skip what they do not need: samples, the benchmark, the soak (`make soak` runs
# the native build's). The ASan build keeps the bridge (what it parses comes from the network;
# Cyclone DDS itself is not instrumented, which ASan allows); ThreadSanitizer leaves it out, as
# it would report Cyclone's own uninstrumented threads.
SANITIZER_ARGS = -DSHMREC_BUILD_SAMPLES=OFF -DSHMREC_BUILD_BENCH=OFF -DSHMREC_BUILD_SOAK=OFF \
	-DCMAKE_BUILD_TYPE=Debug

all: build

deps:
	@tools/install-deps.sh

CONFIGURE_NATIVE = cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $(DEBUG_INFO) -DNDEBUG" $(CMAKE_ARGS) >/dev/null

configure: deps
	@$(CONFIGURE_NATIVE)

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Only what the demo runs: memwrite, memread and what they need (shmrec-gen, the runtime).
build-demo: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target memwrite memread

demo: build-demo
	@samples/demo.sh $(BUILD_DIR)/samples

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan -G Ninja $(SANITIZER_ARGS) -DSHMREC_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900 -LE no-asan

# The in-process concurrency tests (writer and reader threads on one mapping) under
# ThreadSanitizer; TSan cannot follow a peer in another process. Only the programs holding
# tests labelled `tsan` are built (TSAN_TARGETS): the rest would cost CI minutes for nothing.
TSAN_TARGETS = shmrec_unit_tests shmrec_channel_thread_tests
test-tsan: deps
	@cmake -S . -B build-tsan -G Ninja $(SANITIZER_ARGS) -DSHMREC_BUILD_BRIDGE=OFF \
		-DSHMREC_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target $(TSAN_TARGETS)
	@cd build-tsan && ctest --output-on-failure -j $(JOBS) --timeout 900 -L tsan

# The fuzzers (RELIABILITY C8) for $(FUZZ_SECONDS) s each: the region-image fuzzer (any bytes as
# a region), the schema fuzzer (any bytes as a region's embedded binary schema) and the
# table-ring fuzzer (any bytes as a byte ring's data area, or as table records). A clang build
# of their own, each run on a scratch copy of its seed corpus (tests/fuzz/ stays clean). Crashes,
# sanitizer reports and hangs (> 10 s) end it with a non-zero status and an input in
# build-fuzz/findings.
FUZZERS = region_image:corpus schema:schema_corpus table_ring:table_corpus
fuzz: deps
	@cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $(DEBUG_INFO) -DNDEBUG" \
		-DSHMREC_BUILD_FUZZERS=ON -DSHMREC_BUILD_SAMPLES=OFF -DSHMREC_BUILD_BENCH=OFF \
		-DSHMREC_BUILD_BRIDGE=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(patsubst %,shmrec_%_fuzzer,$(foreach p,$(FUZZERS),$(firstword $(subst :, ,$(p)))))
	@mkdir -p build-fuzz/findings
	@cd build-fuzz && for pair in $(FUZZERS); do \
		fuzzer=$${pair%%:*}; corpus=$${pair#*:}; \
		rm -rf fuzz-$$fuzzer && mkdir -p fuzz-$$fuzzer && cp ../tests/fuzz/$$corpus/* fuzz-$$fuzzer/; \
		status=0; tests/fuzz/shmrec_$${fuzzer}_fuzzer -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -print_final_stats=1 -artifact_prefix=findings/ fuzz-$$fuzzer \
			> fuzz-$$fuzzer.log 2>&1 || status=$$?; \
		if [ $$status -ne 0 ]; then tail -60 fuzz-$$fuzzer.log; \
		else grep -E '^(INFO: seed corpus|Done|stat::)' fuzz-$$fuzzer.log; fi; \
		echo "fuzz $$fuzzer: exit status $$status (full log: build-fuzz/fuzz-$$fuzzer.log)"; \
		[ $$status -eq 0 ] || exit $$status; \
	done

# The chaos soak (RELIABILITY R8) for $(SOAK_SECONDS) s: a broadcast writer and two readers
# restarted at random by kill -9, SIGTERM and SIGSTOP/SIGCONT, checked record by record.
soak: build
	@$(BUILD_DIR)/tests/soak/shmrec_soak_driver --seconds $(SOAK_SECONDS) \
		--peer $(BUILD_DIR)/tests/soak/shmrec_soak_peer

check: test test-asan test-tsan fuzz soak

# The benchmarks want an optimised build of their own.
CONFIGURE_BENCH = cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	-DSHMREC_BUILD_TESTS=OFF -DSHMREC_BUILD_SAMPLES=OFF -DSHMREC_BUILD_BENCH=ON $(CMAKE_ARGS) >/dev/null

# iceoryx and gnuplot are needed only here.
bench:
	@tools/install-deps.sh iceoryx libiceoryx-posh-dev libiceoryx-hoofs-dev gnuplot-nox
	@$(CONFIGURE_BENCH)
	@cmake --build $(BENCH_DIR) -j $(JOBS) --target shmrec-bench
	@mkdir -p $(BUILD_DIR)/bench
	@$(BENCH_DIR)/bench/shmrec-bench --json $(BUILD_DIR)/bench/results.json $(BENCH_ARGS)
	@gnuplot -e "data='$(BUILD_DIR)/bench/latency.dat'; out='$(BUILD_DIR)/bench/latency.png'" \
		bench/plot_latency.gp
	@echo "plot: $(BUILD_DIR)/bench/latency.png"

# The bridge's benchmark shares that build; it needs Cyclone DDS's ddsperf (cyclonedds-tools,
# in install-deps.sh's list) and builds only the bridge and its own programs.
bench-bridge: deps
	@$(CONFIGURE_BENCH)
	@cmake --build $(BENCH_DIR) -j $(JOBS) --target shmrec-bridge-bench
	@mkdir -p $(BUILD_DIR)/bench
	@$(BENCH_DIR)/bench/bridge/shmrec-bridge-bench --json $(BUILD_DIR)/bench/bridge-results.json \
		$(BENCH_BRIDGE_ARGS)

deps-windows:
	@tools/install-deps.sh $(WIN_PACKAGES)

# shmrec-gen is a build-host tool (like flatc): the cross build runs this native one.
native-gen: deps-windows
	@$(CONFIGURE_NATIVE)
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target shmrec-gen

configure-windows: native-gen
	@cmake -S . -B $(WIN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(WIN_BUILD_TYPE) \
		-DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
		-DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
		-DSHMREC_GEN_EXECUTABLE=$(abspath $(BUILD_DIR))/codegen/shmrec-gen $(WIN_CMAKE_ARGS) >/dev/null

build-windows: configure-windows
	@cmake --build $(WIN_BUILD_DIR) -j $(JOBS)

test-windows: build-windows
	@$(WIN_SESSION) ctest --test-dir $(WIN_BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

demo-windows: configure-windows
	@cmake --build $(WIN_BUILD_DIR) -j $(JOBS) --target memwrite memread
	@SHMREC_EMULATOR=$(WINE) SHMREC_EXE_SUFFIX=.exe $(WIN_SESSION) samples/demo.sh $(WIN_BUILD_DIR)/samples

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz $(BENCH_DIR) $(WIN_BUILD_DIR)
