// libFuzzer target: parses arbitrary bytes as GGUF and touches everything the parser
// returns, so ASan/UBSan see any out-of-bounds view or bad value it lets through.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gguf/gguf.h"

namespace {

uint64_t walk_value(const wafer::GgufValue& v) {
  uint64_t sum = static_cast<uint64_t>(v.type) + v.u + static_cast<uint64_t>(v.i);
  sum += static_cast<uint64_t>(v.as_int().value_or(0));
  sum += v.as_double().has_value() ? 1 : 0;
  sum += wafer::gguf_value_type_name(v.type).size();
  for (char c : v.str) sum += static_cast<uint8_t>(c);
  for (const wafer::GgufValue& e : v.array) sum += walk_value(e);
  return sum;
}

uint64_t walk_file(const wafer::GgufFile& f) {
  uint64_t sum = f.version() + f.alignment();
  for (const auto& [key, value] : f.metadata()) {
    sum += key.size() + walk_value(value);
    if (f.find(key) != &value) __builtin_trap();
    // The typed getters must answer (value or error) for every key.
    sum += f.get_string(key).ok() + f.get_int(key).ok() + f.get_float(key).ok() +
           f.get_bool(key).ok() + f.get_string_array(key).ok() + f.get_int_array(key).ok() +
           f.get_float_array(key).ok();
  }
  for (const wafer::GgufTensorInfo& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) __builtin_trap();
    if (t.num_bytes != wafer::row_bytes(t.type, t.shape[0]) * (t.num_elements / t.shape[0]))
      __builtin_trap();
    for (uint64_t i = 0; i < t.num_bytes; ++i) sum += t.data[i];
  }
  return sum;
}

// Whatever the reader accepts, the writer must reproduce: write it again, parse that, and
// compare (a reader/writer disagreement is as much a bug as a crash).
void check_round_trip(const wafer::GgufFile& f) {
  wafer::GgufWriter w(f.alignment());
  w.copy_metadata(f, "");
  for (const wafer::GgufTensorInfo& t : f.tensors())
    w.add_tensor(t.name, t.type, t.shape, std::vector<uint8_t>(t.data, t.data + t.num_bytes));
  const std::vector<uint8_t> bytes = w.serialize();
  auto again = wafer::GgufFile::parse(wafer::MappedFile::borrow(bytes));
  if (!again.ok()) __builtin_trap();
  const wafer::GgufFile& g = **again;
  if (g.metadata().size() < f.metadata().size() || g.tensors().size() != f.tensors().size() ||
      g.alignment() != f.alignment())
    __builtin_trap();
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const wafer::GgufTensorInfo& a = f.tensors()[i];
    const wafer::GgufTensorInfo& b = g.tensors()[i];
    if (a.name != b.name || a.type != b.type || a.shape != b.shape ||
        std::memcmp(a.data, b.data, a.num_bytes) != 0)
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = wafer::GgufFile::parse(wafer::MappedFile::borrow({data, size}));
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) __builtin_trap();
    return 0;
  }
  volatile uint64_t sink = walk_file(**parsed);
  (void)sink;
  check_round_trip(**parsed);
  return 0;
}
