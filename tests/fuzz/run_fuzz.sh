#!/usr/bin/env bash
# Runs each libFuzzer target (the GGUF reader, the API request parsers and output writers, the
# grammar front ends) for SECONDS over a scratch copy of its seed corpus; exits non-zero when one finds a crash, leak,
# timeout or OOM (the input is kept in BUILD_DIR/fuzz-artifacts).
# Usage: tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS   (BUILD_DIR configured with -DWAFER_FUZZ=ON)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build_dir/fuzz-artifacts"

# fuzz NAME CORPUS_DIR [extra libFuzzer flags...]
fuzz() {
  local name=$1 corpus=$2
  shift 2
  local fuzzer=$build_dir/tests/fuzz/$name
  if [[ ! -x $fuzzer ]]; then
    echo "$fuzzer not found: cmake --build $build_dir --target $name" >&2
    exit 2
  fi
  mkdir -p "$work/$name"
  cp "$corpus"/* "$work/$name/"
  local status=0
  "$fuzzer" "$work/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$build_dir/fuzz-artifacts/$name-" -print_final_stats=1 "$@" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "$name failed (exit $status); reproducer in $build_dir/fuzz-artifacts/" >&2
    exit "$status"
  fi
  echo "$name: no crash in ${seconds}s"
}

fuzz gguf_fuzz "$here/corpus" -max_len=65536 -dict="$here/gguf.dict"
fuzz api_fuzz "$here/corpus_api" -max_len=16384
fuzz grammar_fuzz "$here/corpus_grammar" -max_len=4096
