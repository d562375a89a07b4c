// The table of GGUF tensor types: name, elements per block, bytes per block.
#include "base/dtype.h"

namespace wafer {
namespace {

constexpr uint32_t kQK_K = 256;

struct Entry {
  uint32_t id;
  DTypeTraits traits;
};

constexpr Entry kTable[] = {
    {0, {"f32", 1, 4}},
    {1, {"f16", 1, 2}},
    {2, {"q4_0", 32, 2 + 16}},
    {3, {"q4_1", 32, 2 + 2 + 16}},
    {6, {"q5_0", 32, 2 + 4 + 16}},
    {7, {"q5_1", 32, 2 + 2 + 4 + 16}},
    {8, {"q8_0", 32, 2 + 32}},
    {9, {"q8_1", 32, 4 + 32}},
    {10, {"q2_K", kQK_K, kQK_K / 16 + kQK_K / 4 + 2 + 2}},
    {11, {"q3_K", kQK_K, kQK_K / 8 + kQK_K / 4 + 12 + 2}},
    {12, {"q4_K", kQK_K, 2 + 2 + 12 + kQK_K / 2}},
    {13, {"q5_K", kQK_K, 2 + 2 + 12 + kQK_K / 8 + kQK_K / 2}},
    {14, {"q6_K", kQK_K, kQK_K / 2 + kQK_K / 4 + kQK_K / 16 + 2}},
    {15, {"q8_K", kQK_K, 4 + kQK_K + kQK_K / 16 * 2}},
    {24, {"i8", 1, 1}},
    {25, {"i16", 1, 2}},
    {26, {"i32", 1, 4}},
    {27, {"i64", 1, 8}},
    {28, {"f64", 1, 8}},
    {30, {"bf16", 1, 2}},
};

}  // namespace

const DTypeTraits* dtype_traits(uint32_t id) {
  for (const Entry& e : kTable)
    if (e.id == id) return &e.traits;
  return nullptr;
}

std::string_view dtype_name(DType t) {
  const DTypeTraits* tr = dtype_traits(static_cast<uint32_t>(t));
  return tr ? tr->name : std::string_view("unknown");
}

}  // namespace wafer
