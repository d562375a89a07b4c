#!/bin/sh
# Reproduces the CPU table of BENCHMARKS.md: synthesises random-weight models of the real
# Qwen2.5-Coder shapes (once, into build/models) and runs `wafer bench` on each, printing
# wafer's figures beside the llama.cpp anchor of the CPU-speed issue (llama.cpp b10573,
# `llama-bench -t 2`, same shapes and types, measured on this kind of machine).
# Usage: scripts/bench.sh [THREADS] [REPEATS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
REPEATS=${2:-5}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
mkdir -p build/models
echo "| model | pp512 tok/s | llama.cpp pp512 | pp ratio | tg128 tok/s | llama.cpp tg128 | tg ratio | bandwidth GB/s | weight MiB/token | tg / roofline |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "qwen2.5-coder-0.5b f16 441 40.7" "qwen2.5-coder-0.5b q8_0 371 62.8" \
           "qwen2.5-coder-0.5b q4_k_m 302 64.6" "qwen2.5-coder-1.5b f16 135 12.7" \
           "qwen2.5-coder-1.5b q8_0 106 22.6" "qwen2.5-coder-1.5b q4_k_m 139 39.7"; do
  set -- $row
  shape=$1 type=$2 ref_pp=$3 ref_tg=$4
  f=build/models/$shape-$type.gguf
  [ -f "$f" ] || build/wafer synth --shape "$shape" --type "$type" \
    --vocab "$SHARED/vocab/ggml-vocab-qwen2.gguf" -o "$f" >/dev/null 2>&1
  build/wafer bench -m "$f" -t "$THREADS" -r "$REPEATS" -p 512 -n 128 --output json |
    python3 -c "import json,sys; d=json.load(sys.stdin); pp,tg=d['pp_tps'],d['tg_tps']; print('| %s %s | %.1f | %s | %.2fx | %.1f | %s | %.2fx | %.1f | %.0f | %.0f%% |' % ('$shape', '$type', pp, '$ref_pp', pp/$ref_pp, tg, '$ref_tg', tg/$ref_tg, d['bandwidth_gbs'], d['weight_bytes']/1048576, 100*d['tg_roofline_fraction']))"
done
