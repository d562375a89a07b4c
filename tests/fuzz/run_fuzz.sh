#!/usr/bin/env bash
# Runs the GGUF fuzzer for SECONDS over a scratch copy of tests/fuzz/corpus; exits non-zero
# when it finds a crash, leak, timeout or OOM (the input is kept in BUILD_DIR/fuzz-artifacts).
# Usage: tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS   (BUILD_DIR configured with -DWAFER_FUZZ=ON)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$build_dir/tests/fuzz/gguf_fuzz
if [[ ! -x $fuzzer ]]; then
  echo "$fuzzer not found: cmake --build $1 --target gguf_fuzz" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build_dir/fuzz-artifacts"
cp "$here"/corpus/* "$work/corpus/"

status=0
"$fuzzer" "$work/corpus" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
  -dict="$here/gguf.dict" -artifact_prefix="$build_dir/fuzz-artifacts/" \
  -print_final_stats=1 || status=$?
if [[ $status -ne 0 ]]; then
  echo "gguf_fuzz failed (exit $status); reproducer in $build_dir/fuzz-artifacts/" >&2
  exit "$status"
fi
echo "gguf_fuzz: no crash in ${seconds}s"
