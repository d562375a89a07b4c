// Choosing the kernel level: the best the CPU runs, or the one WAFER_ISA names
// (reference|avx2|avx512|amx; a level the CPU lacks falls back to the best below it).
#pragma once

#include "base/thread_pool.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"

namespace wafer::kernels {

// The table of `isa`, or nullptr where this CPU (or OS) cannot run it. Asking for kAmx
// requests the process's AMX permission. Thread-safe; tables are immutable.
const KernelTable* kernel_table_for(Isa isa);

// The level chosen at first use (WAFER_ISA or the best available); fixed for the process.
const KernelTable& active_kernel_table();

// Parses a WAFER_ISA value; false for an unknown name.
bool parse_isa(const char* name, Isa* isa);

// From this many tokens on, levels with AMX run matmul on tiles (bf16 products, f32 sums);
// fewer tokens take the matrix-vector kernels (int8 activations for quantised weights).
constexpr size_t kAmxMinTokens = 32;

// How the prefill panels multiply F16 weights on levels with exact f32 panels (AVX-512
// without AMX; decision 0016). kBf16 rounds weights and activations to bf16, one vdpbf16ps
// per pair of k: twice the f32 FMA rate, logits well inside the F16 golden bound. kExact
// multiplies in f32, each product exact.
enum class F16Panels { kBf16, kExact };

// The process's choice, read once: kExact where WAFER_F16_PANELS=exact, else kBf16.
F16Panels default_f16_panels();

// Which bf16 parts a panel product of `type` takes (the hi part of both operands always;
// lo = the rest, rounded to bf16 again), or exact f32 products instead.
struct PanelParts {
  bool exact_f32 = false;
  bool weight_lo = false;
  bool activation_lo = false;
};
PanelParts panel_parts(const KernelTable& table, DType type, F16Panels f16);

// matmul (ops.h) on a given level's kernels: what the public matmul runs on the active one.
void matmul_with(const KernelTable& table, const WeightView& w, const float* x,
                 size_t num_tokens, float* y, ThreadPool& pool, MatmulKernel kernel = MatmulKernel::kAuto,
                 F16Panels f16 = default_f16_panels());

// matmul_shared (ops.h) on a given level's kernels.
void matmul_shared_with(const KernelTable& table, std::span<const MatmulTarget> targets, const float* x,
                        size_t num_tokens, ThreadPool& pool, MatmulKernel kernel = MatmulKernel::kAuto);

// repack_weights (ops.h) for a given level's kernels; pool (optional) splits the work.
bool repack_weights_for(const KernelTable& table, WeightView* w, WeightStorage* storage,
                        ThreadPool* pool = nullptr);

// get_row on a given level's kernels.
void get_row_with(const KernelTable& table, const WeightView& w, size_t row, float* out);

}  // namespace wafer::kernels
