// The kernel tables of each level and the choice among them, made once per process.
#include "kernels/dispatch.h"

#include <cstdlib>
#include <cstring>

#include "kernels/avx512/kernels.h"
#include "kernels/cpu_features.h"
#include "kernels/amx_gemm.h"
#include "kernels/avx2/kernels.h"
#include "kernels/reference/act_quant_ref.h"
#include "kernels/reference/elementwise_ref.h"
#include "quant/quant.h"

namespace wafer::kernels {
namespace {

void reference_dequantize(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out) {
  const DTypeTraits& tr = traits(w.type);
  const uint8_t* src = w.data + row * w.row_bytes + col_begin / tr.block_elems * tr.block_bytes;
  dequantize_row(w.type, src, out, n);
}

constexpr KernelTable kReferenceTable = {
    Isa::kReference, "reference", wafer::reference::quantize_q8_block32, wafer::reference::quantize_q8_block256,
    {}, reference_dequantize, wafer::reference::rms_norm, wafer::reference::silu_mul, nullptr};

constexpr KernelTable kAvx2Table = {
    Isa::kAvx2, "avx2", avx2::quantize_q8_block32, avx2::quantize_q8_block256,
    {avx2::matvec_f32, avx2::matvec_f16, avx2::matvec_bf16, avx2::matvec_q8_0, avx2::matvec_q4_0,
     avx2::matvec_q5_0, avx2::matvec_q4_k, avx2::matvec_q5_k, avx2::matvec_q6_k},
    avx2::dequantize, avx2::rms_norm, avx2::silu_mul, &avx2::kF32GemmKernels};

constexpr KernelTable kAvx512Table = {
    Isa::kAvx512, "avx512", avx512::quantize_q8_block32, avx512::quantize_q8_block256,
    {avx512::matvec_f32, avx512::matvec_f16, avx512::matvec_bf16, avx512::matvec_q8_0,
     avx512::matvec_q4_0, avx512::matvec_q5_0, avx512::matvec_q4_k, avx512::matvec_q5_k,
     avx512::matvec_q6_k},
    avx512::dequantize, avx512::rms_norm, avx512::silu_mul, &avx512::kBf16GemmKernels,
    avx512::matvec_q8_0_rows16, avx512::matvec_q4_k_rows16, avx512::matvec_q5_0_rows16,
    avx512::matvec_q6_k_rows16};

constexpr KernelTable kAmxTable = {
    Isa::kAmx, "amx", avx512::quantize_q8_block32, avx512::quantize_q8_block256,
    {avx512::matvec_f32, avx512::matvec_f16, avx512::matvec_bf16, avx512::matvec_q8_0,
     avx512::matvec_q4_0, avx512::matvec_q5_0, avx512::matvec_q4_k, avx512::matvec_q5_k,
     avx512::matvec_q6_k},
    avx512::dequantize, avx512::rms_norm, avx512::silu_mul, &avx512::kAmxKernels,
    avx512::matvec_q8_0_rows16, avx512::matvec_q4_k_rows16, avx512::matvec_q5_0_rows16,
    avx512::matvec_q6_k_rows16};

// What this CPU runs, asked once (the AMX permission request is a system call).
struct Availability {
  bool avx2 = false, avx512 = false, amx = false;
};
const Availability& availability() {
  static const Availability a = [] {
    const CpuFeatures f = detect_cpu_features();
    return Availability{f.avx2, f.avx512, f.amx && request_amx_permission()};
  }();
  return a;
}

const KernelTable* best_at_or_below(Isa isa) {
  for (int level = static_cast<int>(isa); level > 0; --level)
    if (const KernelTable* t = kernel_table_for(static_cast<Isa>(level))) return t;
  return &kReferenceTable;
}

}  // namespace

bool parse_isa(const char* name, Isa* isa) {
  static constexpr struct {
    const char* name;
    Isa isa;
  } kNames[] = {{"reference", Isa::kReference}, {"avx2", Isa::kAvx2}, {"avx512", Isa::kAvx512},
                {"amx", Isa::kAmx}};
  for (const auto& n : kNames) {
    if (std::strcmp(n.name, name) == 0) {
      *isa = n.isa;
      return true;
    }
  }
  return false;
}

const KernelTable* kernel_table_for(Isa isa) {
  const Availability& a = availability();
  switch (isa) {
    case Isa::kReference: return &kReferenceTable;
    case Isa::kAvx2: return a.avx2 ? &kAvx2Table : nullptr;
    case Isa::kAvx512: return a.avx512 ? &kAvx512Table : nullptr;
    case Isa::kAmx: return a.amx ? &kAmxTable : nullptr;
  }
  return nullptr;
}

const KernelTable& active_kernel_table() {
  static const KernelTable* const table = [] {
    Isa want = Isa::kAmx;
    const char* env = std::getenv("WAFER_ISA");
    if (env != nullptr && *env != '\0' && !parse_isa(env, &want)) want = Isa::kAmx;
    return best_at_or_below(want);
  }();
  return *table;
}

int weight_slot(DType type) {
  switch (type) {
    case DType::kF32: return kSlotF32;
    case DType::kF16: return kSlotF16;
    case DType::kBF16: return kSlotBF16;
    case DType::kQ8_0: return kSlotQ8_0;
    case DType::kQ4_0: return kSlotQ4_0;
    case DType::kQ5_0: return kSlotQ5_0;
    case DType::kQ4_K: return kSlotQ4_K;
    case DType::kQ5_K: return kSlotQ5_K;
    case DType::kQ6_K: return kSlotQ6_K;
    default: return -1;
  }
}

ActFormat act_format(DType weight_type) {
  switch (weight_type) {
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ5_0: return ActFormat::kQ8Block32;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return ActFormat::kQ8Block256;
    default: return ActFormat::kFloat;
  }
}

}  // namespace wafer::kernels
