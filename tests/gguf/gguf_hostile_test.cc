// Hostile GGUF inputs built by hand: each must yield an Error naming the key or tensor at
// fault (and never crash, hang or allocate from an unchecked count).
#include <initializer_list>
#include <optional>

#include "gguf/gguf.h"
#include "gguf_test_util.h"

namespace wafer {
namespace {

using testing::GgufBytes;
using testing::parse_bytes;
using testing::parse_error;
using T = GgufValueType;

constexpr uint32_t kF32 = 0, kQ8_0 = 8, kF64 = 28;

void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> parts,
                  ErrorCode code = ErrorCode::kCorrupt) {
  const std::string msg = parse_error(bytes, code);
  for (std::string_view part : parts)
    EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
}

// A file with one tensor 'blk.0.w' whose data section holds `data_bytes` zero bytes.
std::vector<uint8_t> one_tensor(const std::vector<uint64_t>& shape, uint32_t type, uint64_t offset,
                                size_t data_bytes,
                                std::optional<uint32_t> alignment = std::nullopt) {
  GgufBytes b;
  b.header(1, alignment ? 1 : 0);
  if (alignment) b.kv_u32("general.alignment", *alignment);
  b.tensor("blk.0.w", shape, type, offset);
  b.pad_to(alignment && *alignment > 0 && *alignment <= 4096 ? *alignment : 32);
  return b.zeros(data_bytes).bytes();
}

TEST(GgufHostile, ValidBaselineParses) {
  auto f = parse_bytes(one_tensor({8, 2}, kF32, 0, 64));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->find_tensor("blk.0.w")->num_bytes, 64u);
  auto g = parse_bytes(one_tensor({8}, kF32, 64, 96, 64));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ((*g)->alignment(), 64u);
}

TEST(GgufHostile, HeaderProblems) {
  expect_error({}, {"empty"});
  expect_error(GgufBytes().raw("GGU").bytes(), {"not a GGUF file"});
  expect_error(GgufBytes().raw("GGML").u32(3).u64(0).u64(0).bytes(), {"not a GGUF file", "GGML"});
  expect_error(GgufBytes().raw("GGUF").bytes(), {"version", "truncated"});
  expect_error(GgufBytes().header(0, 0, 1).bytes(), {"version 1"}, ErrorCode::kUnsupported);
  expect_error(GgufBytes().header(0, 0, 4).bytes(), {"version 4"}, ErrorCode::kUnsupported);
  expect_error(GgufBytes().header(0, 0, 0x03000000).bytes(), {"big-endian"},
               ErrorCode::kUnsupported);
  expect_error(GgufBytes().raw("GGUF").u32(3).u64(0).bytes(), {"metadata count"});
  // Counts that cannot fit in the bytes that follow are rejected before any allocation.
  expect_error(GgufBytes().header(0, ~uint64_t{0}).zeros(100).bytes(), {"metadata entries"});
  expect_error(GgufBytes().header(uint64_t{1} << 62, 0).zeros(100).bytes(), {"tensors"});
  expect_error(GgufBytes().header(3, 0).zeros(98).bytes(), {"3 tensors"});
}

TEST(GgufHostile, StringAndArrayLengthsPastTheEnd) {
  expect_error(
      GgufBytes().header(0, 1).str("general.name").u32(8).u64(uint64_t{1} << 60).raw("x").bytes(),
      {"'general.name'", "string", "truncated"});
  expect_error(GgufBytes().header(0, 1).str("general.name").u32(8).u64(5).raw("abcd").bytes(),
               {"'general.name'", "needs 5 bytes"});
  // 1000 u32 elements cannot fit in 3999 bytes.
  expect_error(GgufBytes()
                   .header(0, 1)
                   .str("tokenizer.ggml.scores")
                   .u32(9)
                   .u32(4)
                   .u64(1000)
                   .zeros(3999)
                   .bytes(),
               {"'tokenizer.ggml.scores'", "array of 1000 uint32"});
  expect_error(GgufBytes()
                   .header(0, 1)
                   .str("tokenizer.ggml.tokens")
                   .u32(9)
                   .u32(8)
                   .u64(uint64_t{1} << 40)
                   .zeros(64)
                   .bytes(),
               {"'tokenizer.ggml.tokens'", "array of 1099511627776 string"});
  // A string element whose length runs past the end names the key and the element.
  expect_error(GgufBytes()
                   .header(0, 1)
                   .str("tokenizer.ggml.tokens")
                   .u32(9)
                   .u32(8)
                   .u64(2)
                   .str("ok")
                   .u64(1000)
                   .zeros(8)
                   .bytes(),
               {"'tokenizer.ggml.tokens' (array element 1)", "string"});
  // An array at exactly the bytes it needs is fine.
  auto ok = parse_bytes(GgufBytes().header(0, 1).str("k").u32(9).u32(4).u64(3).zeros(12).bytes());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)->find("k")->array.size(), 3u);
}

TEST(GgufHostile, ValueTypes) {
  expect_error(GgufBytes().header(0, 1).str("general.weird").u32(13).u64(0).bytes(),
               {"'general.weird'", "value type 13 is unknown"});
  expect_error(GgufBytes().header(0, 1).str("general.arr").u32(9).u32(77).u64(0).bytes(),
               {"'general.arr'", "element type 77"});
  expect_error(GgufBytes().header(0, 1).str("general.flag").u32(7).u8(2).bytes(),
               {"'general.flag'", "bool value 2"});
  expect_error(GgufBytes().header(0, 1).str("general.count").u32(4).raw("ab").bytes(),
               {"'general.count'", "uint32", "truncated"});
  expect_error(GgufBytes().header(0, 1).str("general.x").raw("\x04").bytes(),
               {"'general.x'", "value type"});
}

std::vector<uint8_t> nested(int depth) {
  GgufBytes b;
  b.header(0, 1).str("deep.key").u32(9);
  for (int d = 1; d < depth; ++d) b.u32(9).u64(1);  // array of one array ...
  b.u32(0).u64(1).u8(7);                            // ... of one u8
  return b.bytes();
}

TEST(GgufHostile, NestingDepthLimit) {
  auto ok = parse_bytes(nested(8));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  const GgufValue* v = (*ok)->find("deep.key");
  for (int d = 1; d < 8; ++d) v = &v->array.at(0);
  EXPECT_EQ(v->array.at(0).u, 7u);
  expect_error(nested(9), {"'deep.key'", "nested"});
  expect_error(nested(100000), {"'deep.key'", "nested"});
}

TEST(GgufHostile, Names) {
  expect_error(GgufBytes().header(0, 1).str("").u32(4).u32(1).bytes(),
               {"metadata entry 0 of 1", "empty"});
  expect_error(GgufBytes().header(0, 1).str("bad\nkey").u32(4).u32(1).bytes(),
               {"bad\\x0akey", "not valid"});
  expect_error(GgufBytes().header(0, 1).str("bad\xff\xfe").u32(4).u32(1).bytes(),
               {"bad\\xff\\xfe", "not valid"});
  expect_error(GgufBytes().header(0, 1).str("\xc0\xaf").u32(4).u32(1).bytes(),
               {"not valid"});  // overlong
  const std::string long_name(64 * 1024 + 1, 'k');
  expect_error(GgufBytes().header(0, 1).str(long_name).u32(4).u32(1).bytes(),
               {"65537 bytes long", "limit"});
  expect_error(
      GgufBytes().header(1, 0).tensor(long_name, {8}, kF32, 0).pad_to(32).zeros(32).bytes(),
      {"tensor info 0 of 1", "65537 bytes long"});
  // Exactly 64 KiB and multi-byte UTF-8 are fine.
  const std::string max_name(64 * 1024, 'k');
  EXPECT_TRUE(parse_bytes(GgufBytes().header(0, 1).str(max_name).u32(4).u32(1).bytes()).ok());
  EXPECT_TRUE(parse_bytes(GgufBytes()
                              .header(0, 1)
                              .str("n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")
                              .u32(4)
                              .u32(1)
                              .bytes())
                  .ok());
}

TEST(GgufHostile, Duplicates) {
  expect_error(GgufBytes().header(0, 2).kv_u32("general.x", 1).kv_u32("general.x", 2).bytes(),
               {"'general.x' appears twice"});
  expect_error(GgufBytes()
                   .header(2, 0)
                   .tensor("blk.0.w", {8}, kF32, 0)
                   .tensor("blk.0.w", {8}, kF32, 32)
                   .pad_to(32)
                   .zeros(64)
                   .bytes(),
               {"'blk.0.w' appears twice"});
}

TEST(GgufHostile, TensorShapes) {
  expect_error(one_tensor({}, kF32, 0, 64), {"'blk.0.w'", "0 dimensions"});
  expect_error(one_tensor({1, 1, 1, 1, 1}, kF32, 0, 64), {"'blk.0.w'", "5 dimensions"});
  expect_error(one_tensor({8, 0}, kF32, 0, 64), {"'blk.0.w'", "dimension 1", "is 0"});
  expect_error(one_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0, 64),
               {"'blk.0.w'", "more than 2^63-1 elements"});
  expect_error(one_tensor({~uint64_t{0}}, kF32, 0, 64), {"'blk.0.w'", "more than 2^63-1"});
  expect_error(one_tensor({33, 2}, kQ8_0, 0, 128), {"'blk.0.w'", "not a multiple", "q8_0", "32"});
  // 2^62 f64 elements fit in int64 but their bytes overflow 64 bits.
  expect_error(one_tensor({uint64_t{1} << 62}, kF64, 0, 64), {"'blk.0.w'", "overflows"});
  expect_error(one_tensor({8}, 99, 0, 64), {"'blk.0.w'", "type id 99"}, ErrorCode::kUnsupported);
  expect_error(one_tensor({8}, 4, 0, 64), {"'blk.0.w'", "type id 4"}, ErrorCode::kUnsupported);
}

TEST(GgufHostile, TensorOffsetsAndRanges) {
  expect_error(one_tensor({8}, kF32, 16, 64), {"'blk.0.w'", "offset 16", "alignment 32"});
  expect_error(one_tensor({8}, kF32, 32, 63), {"'blk.0.w'", "runs past the end of the file"});
  expect_error(one_tensor({8}, kF32, 0, 31), {"'blk.0.w'", "32 bytes", "runs past the end"});
  expect_error(one_tensor({8}, kF32, ~uint64_t{0} - 31, 64), {"'blk.0.w'", "past the end"});
  expect_error(one_tensor({uint64_t{1} << 61}, kF32, uint64_t{1} << 62, 64),
               {"'blk.0.w'", "past the end"});
  // The message carries the absolute offset and the file size.
  const std::vector<uint8_t> bytes = one_tensor({1024}, kF32, 0, 100);
  const std::string msg = parse_error(bytes);
  const size_t data_start = bytes.size() - 100;
  EXPECT_NE(msg.find(fmt::format("data [offset {}, 4096 bytes]", data_start)), std::string::npos)
      << msg;
  EXPECT_NE(msg.find(fmt::format("(size {})", bytes.size())), std::string::npos) << msg;
}

TEST(GgufHostile, Alignment) {
  expect_error(one_tensor({8}, kF32, 0, 64, 0), {"'general.alignment'", "power of two"});
  expect_error(one_tensor({8}, kF32, 0, 64, 48), {"'general.alignment'", "48"});
  expect_error(GgufBytes().header(0, 1).kv_string("general.alignment", "32").bytes(),
               {"'general.alignment'", "string", "uint32"});
  // Offsets aligned to the default 32 but not to a declared 64 are rejected.
  expect_error(one_tensor({8}, kF32, 32, 96, 64), {"'blk.0.w'", "alignment 64"});
  // A huge alignment puts the data section past the end of the file.
  expect_error(one_tensor({8}, kF32, 0, 64, 1u << 31), {"'blk.0.w'", "past the end"});
}

// A small valid file whose every byte matters: metadata, nested array, two tensors.
std::vector<uint8_t> small_valid_file() {
  GgufWriter w;
  w.set_string("general.architecture", "tiny");
  w.set_u32("tiny.block_count", 2);
  GgufValue inner;
  inner.type = T::kArray;
  inner.elem_type = T::kInt16;
  inner.array.resize(2);
  for (GgufValue& e : inner.array) e.type = T::kInt16;
  GgufValue outer;
  outer.type = T::kArray;
  outer.elem_type = T::kArray;
  outer.array = {inner, inner};
  w.set("tiny.nested", outer);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "bc", "def"});
  w.add_tensor("t0", DType::kF32, {3}, std::vector<uint8_t>(12, 1));
  w.add_tensor("t1", DType::kQ4_0, {32, 2}, std::vector<uint8_t>(36, 2));
  return w.serialize();
}

TEST(GgufHostile, EveryTruncationFails) {
  const std::vector<uint8_t> full = small_valid_file();
  ASSERT_TRUE(parse_bytes(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    auto r = parse_bytes(prefix);
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    if (!r.ok()) {
      EXPECT_EQ(r.error().message.rfind("gguf: ", 0), 0u) << r.error().message;
    }
  }
}

TEST(GgufHostile, EveryByteFlipIsSafe) {
  const std::vector<uint8_t> full = small_valid_file();
  size_t failures = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = full;
      bytes[i] ^= x;
      auto r = parse_bytes(bytes);  // must not crash; either result is fine
      if (!r.ok()) {
        ++failures;
        EXPECT_FALSE(r.error().message.empty());
      } else {
        for (const GgufTensorInfo& t : (*r)->tensors())
          EXPECT_LE(t.data + t.num_bytes, bytes.data() + bytes.size()) << t.name;
      }
    }
  }
  EXPECT_GT(failures, full.size());  // most flips in a dense file are caught
}

}  // namespace
}  // namespace wafer
