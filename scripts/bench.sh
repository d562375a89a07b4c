#!/bin/sh
# Reproduces the CPU table of BENCHMARKS.md: synthesises random-weight models of the real
# Qwen2.5-Coder shapes (once, into build/models) and runs `wafer bench -t 2` on each.
# Usage: scripts/bench.sh [THREADS] [REPEATS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
REPEATS=${2:-5}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
mkdir -p build/models
echo "| model | pp512 tok/s | tg128 tok/s | bandwidth GB/s | weight MiB/token | tg / roofline |"
echo "|---|---:|---:|---:|---:|---:|"
for shape in qwen2.5-coder-0.5b qwen2.5-coder-1.5b; do
  for type in f16 q8_0 q4_k_m; do
    f=build/models/$shape-$type.gguf
    [ -f "$f" ] || build/wafer synth --shape "$shape" --type "$type" \
      --vocab "$SHARED/vocab/ggml-vocab-qwen2.gguf" -o "$f" >/dev/null 2>&1
    build/wafer bench -m "$f" -t "$THREADS" -r "$REPEATS" -p 512 -n 128 --output json |
      python3 -c "import json,sys; d=json.load(sys.stdin); print('| $shape $type | %.1f | %.1f | %.1f | %.0f | %.0f%% |' % (d['pp_tps'], d['tg_tps'], d['bandwidth_gbs'], d['weight_bytes']/1048576, 100*d['tg_roofline_fraction']))"
  done
done
