# wafer: `make` builds (Release) into build/, `make test` runs every test, `make run` starts
# the main job. Each installs the Debian packages it needs first.
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SHARED ?= $(abspath ../shared)
MODELS := build/models

.PHONY: all deps build test test-release test-asan test-fuzz run bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j$(JOBS)

# Everything: Release tests (unit, golden, e2e), then the unit tests under ASan+UBSan, then
# the fuzzers for a bounded time.
test: test-release test-asan test-fuzz
	@echo "wafer: all tests passed"

test-release: build
	@cd build && ctest --output-on-failure -j$(JOBS) --timeout 1500

test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWAFER_SANITIZE=ON -DWAFER_BENCH=OFF >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS) -L unit --timeout 1500

FUZZ_SECONDS ?= 45
test-fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DWAFER_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@tests/fuzz/run_fuzz.sh build-fuzz $(FUZZ_SECONDS)

# A model to serve when none is given: a random-weight model of the tiny shape with the real
# Qwen2.5 tokenizer that ends its turns after a few dozen tokens (until wafer ships a
# built-in model). Its text is noise; every stage of the server is the real one.
$(MODELS)/tiny-q8_0.gguf: | build
	@mkdir -p $(MODELS)
	@build/wafer synth --shape tiny --type q8_0 --turn-end-logit 3.5 \
	  --vocab $(SHARED)/vocab/ggml-vocab-qwen2.gguf -o $@

PORT ?= 8080
run: build $(MODELS)/tiny-q8_0.gguf
	@echo "wafer: serving $(MODELS)/tiny-q8_0.gguf (a random-weight model; use -m for a real one)"
	@echo "  openai SDK: new OpenAI({ baseURL: 'http://127.0.0.1:$(PORT)/v1', apiKey: 'unused' })"
	@echo "  Codex CLI:  see README.md, 'Codex CLI' (base_url = \"http://127.0.0.1:$(PORT)/v1\")"
	@build/wafer serve -m $(MODELS)/tiny-q8_0.gguf --port $(PORT)

bench: build
	@scripts/bench.sh

clean:
	rm -rf build build-asan build-fuzz
