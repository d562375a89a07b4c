// GGUF writer -> reader round trips: every value type, nested arrays, every tensor type,
// alignment, and the typed getters.
#include "gguf/gguf.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "gguf_test_util.h"

namespace wafer {
namespace {

using testing::parse_bytes;

GgufValue scalar(GgufValueType type) {
  GgufValue v;
  v.type = type;
  return v;
}
GgufValue u_val(GgufValueType type, uint64_t u) {
  GgufValue v = scalar(type);
  v.u = u;
  return v;
}
GgufValue i_val(GgufValueType type, int64_t i) {
  GgufValue v = scalar(type);
  v.i = i;
  return v;
}
GgufValue f_val(GgufValueType type, double f) {
  GgufValue v = scalar(type);
  v.f = f;
  return v;
}
GgufValue s_val(std::string s) {
  GgufValue v = scalar(GgufValueType::kString);
  v.str = std::move(s);
  return v;
}
GgufValue arr(GgufValueType elem, std::vector<GgufValue> elems) {
  GgufValue v = scalar(GgufValueType::kArray);
  v.elem_type = elem;
  v.array = std::move(elems);
  return v;
}

void expect_same(const GgufValue& a, const GgufValue& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  switch (a.type) {
    case GgufValueType::kString:
      EXPECT_EQ(a.str, b.str) << where;
      break;
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      EXPECT_EQ(a.f, b.f) << where;
      break;
    case GgufValueType::kArray:
      ASSERT_EQ(a.elem_type, b.elem_type) << where;
      ASSERT_EQ(a.array.size(), b.array.size()) << where;
      for (size_t i = 0; i < a.array.size(); ++i)
        expect_same(a.array[i], b.array[i], where + "[" + std::to_string(i) + "]");
      break;
    default:
      EXPECT_EQ(a.u, b.u) << where;
      EXPECT_EQ(a.i, b.i) << where;
  }
}

std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  using T = GgufValueType;
  return {
      {"t.u8", u_val(T::kUint8, 255)},
      {"t.i8", i_val(T::kInt8, -128)},
      {"t.u16", u_val(T::kUint16, 65535)},
      {"t.i16", i_val(T::kInt16, -32768)},
      {"t.u32", u_val(T::kUint32, 4000000000u)},
      {"t.i32", i_val(T::kInt32, -2000000000)},
      {"t.f32", f_val(T::kFloat32, 1.5f)},
      {"t.bool", u_val(T::kBool, 1)},
      {"t.string", s_val(std::string("h\xc3\xa9llo\0world", 12))},
      {"t.empty_string", s_val("")},
      {"t.u64", u_val(T::kUint64, std::numeric_limits<uint64_t>::max())},
      {"t.i64", i_val(T::kInt64, std::numeric_limits<int64_t>::min())},
      {"t.f64", f_val(T::kFloat64, 3.141592653589793)},
      {"t.arr_u8", arr(T::kUint8, {u_val(T::kUint8, 1), u_val(T::kUint8, 2)})},
      {"t.arr_i16", arr(T::kInt16, {i_val(T::kInt16, -5)})},
      {"t.arr_f64", arr(T::kFloat64, {f_val(T::kFloat64, -0.25), f_val(T::kFloat64, 1e300)})},
      {"t.arr_bool", arr(T::kBool, {u_val(T::kBool, 0), u_val(T::kBool, 1)})},
      {"t.arr_str", arr(T::kString, {s_val("a"), s_val(""), s_val(std::string(100, 'x'))})},
      {"t.arr_empty", arr(T::kInt64, {})},
      {"t.nested", arr(T::kArray, {arr(T::kUint32, {u_val(T::kUint32, 1), u_val(T::kUint32, 2)}),
                                   arr(T::kString, {s_val("deep")}), arr(T::kInt8, {})})},
      {"t.nested3", arr(T::kArray, {arr(T::kArray, {arr(T::kUint64, {u_val(T::kUint64, 7)})})})},
  };
}

TEST(GgufRoundTrip, EveryValueType) {
  GgufWriter w;
  const auto values = every_value_type();
  for (const auto& [k, v] : values) w.set(k, v);
  const std::vector<uint8_t> bytes = w.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->version(), 3u);
  ASSERT_EQ((*file)->metadata().size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ((*file)->metadata()[i].first, values[i].first);  // insertion order kept
    const GgufValue* got = (*file)->find(values[i].first);
    ASSERT_NE(got, nullptr) << values[i].first;
    expect_same(*got, values[i].second, values[i].first);
  }
  EXPECT_EQ((*file)->find("t.missing"), nullptr);
  EXPECT_TRUE((*file)->tensors().empty());
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed);
  return v;
}

TEST(GgufRoundTrip, EveryTensorType) {
  GgufWriter w;
  w.set_string("general.architecture", "test");
  struct Expect {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<Expect> expected;
  for (uint32_t id = 0; id < 64; ++id) {
    const DTypeTraits* tr = dtype_traits(id);
    if (tr == nullptr) continue;
    const DType type = static_cast<DType>(id);
    // Odd byte counts between tensors exercise the alignment padding.
    std::vector<uint64_t> shape = {tr->block_elems * 3, 1 + id % 3};
    if (id % 2) shape.push_back(2);
    const size_t bytes = row_bytes(type, shape[0]) * shape[1] * (shape.size() > 2 ? shape[2] : 1);
    Expect e{"t." + std::string(tr->name), type, shape, pattern(bytes, static_cast<uint8_t>(id))};
    w.add_tensor(e.name, type, shape, e.data);
    expected.push_back(std::move(e));
  }
  ASSERT_GE(expected.size(), 20u);
  const std::vector<uint8_t> bytes = w.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ((*file)->tensors().size(), expected.size());
  EXPECT_EQ((*file)->alignment(), 32u);
  for (size_t i = 0; i < expected.size(); ++i) {
    const Expect& e = expected[i];
    const GgufTensorInfo* t = (*file)->find_tensor(e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t, &(*file)->tensors()[i]);
    EXPECT_EQ(t->type, e.type) << e.name;
    EXPECT_EQ(t->shape, e.shape) << e.name;
    EXPECT_EQ(t->num_bytes, e.data.size()) << e.name;
    uint64_t elements = 1;
    for (uint64_t ne : e.shape) elements *= ne;
    EXPECT_EQ(t->num_elements, elements) << e.name;
    EXPECT_EQ(t->offset % 32, 0u) << e.name;
    EXPECT_EQ(static_cast<size_t>(t->data - bytes.data()) % 32, 0u) << e.name;
    EXPECT_EQ(std::vector<uint8_t>(t->data, t->data + t->num_bytes), e.data) << e.name;
  }
  EXPECT_EQ((*file)->find_tensor("t.nope"), nullptr);
}

TEST(GgufWriter, AlignmentFromConstructorIsRecorded) {
  GgufWriter w(64);
  w.add_tensor("a", DType::kI8, {3}, {1, 2, 3});
  w.add_tensor("b", DType::kI8, {5}, {4, 5, 6, 7, 8});
  const std::vector<uint8_t> bytes = w.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->alignment(), 64u);
  auto align = (*file)->get_int("general.alignment");
  ASSERT_TRUE(align.ok());
  EXPECT_EQ(align->value_or(0), 64);
  const GgufTensorInfo* b = (*file)->find_tensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->offset, 64u);
  EXPECT_EQ(static_cast<size_t>(b->data - bytes.data()) % 64, 0u);
  EXPECT_EQ(b->data[4], 8);
  EXPECT_EQ(bytes.size(), static_cast<size_t>(b->data - bytes.data()) + 5);  // no tail padding
}

TEST(GgufWriter, AlignmentKeyIsHonoured) {
  GgufWriter w;  // default 32, but the key says 256
  w.set_u32("general.alignment", 256);
  w.add_tensor("a", DType::kF32, {1}, {0, 0, 128, 63});
  w.add_tensor("b", DType::kF32, {1}, {0, 0, 0, 64});
  const std::vector<uint8_t> bytes = w.serialize();
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->alignment(), 256u);
  EXPECT_EQ((*file)->metadata().size(), 1u);  // not written twice
  EXPECT_EQ((*file)->find_tensor("b")->offset, 256u);
  for (const GgufTensorInfo& t : (*file)->tensors())
    EXPECT_EQ(static_cast<size_t>(t.data - bytes.data()) % 256, 0u);
  float b;
  std::memcpy(&b, (*file)->find_tensor("b")->data, 4);
  EXPECT_EQ(b, 2.0f);
}

TEST(GgufWriter, SetReplacesAndKeepsPosition) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_string("b", "x");
  w.set_i32("a", -7);
  auto file = parse_bytes(w.serialize());
  ASSERT_TRUE(file.ok());
  ASSERT_EQ((*file)->metadata().size(), 2u);
  EXPECT_EQ((*file)->metadata()[0].first, "a");
  EXPECT_EQ((*file)->metadata()[0].second.type, GgufValueType::kInt32);
  EXPECT_EQ((*file)->get_int("a")->value_or(0), -7);
}

TEST(GgufWriter, CopyMetadataByPrefix) {
  GgufWriter src;
  src.set_string("general.architecture", "qwen2");
  src.set_u32("qwen2.context_length", 4096);
  src.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  auto file = parse_bytes(src.serialize());
  ASSERT_TRUE(file.ok());
  GgufWriter dst;
  dst.copy_metadata(**file, "tokenizer.");
  dst.copy_metadata(**file, "general.");
  auto copy = parse_bytes(dst.serialize());
  ASSERT_TRUE(copy.ok());
  ASSERT_EQ((*copy)->metadata().size(), 2u);
  EXPECT_EQ((*copy)->metadata()[0].first, "tokenizer.ggml.tokens");
  EXPECT_EQ((*copy)->find("qwen2.context_length"), nullptr);
  EXPECT_EQ(**(*copy)->get_string("general.architecture"), "qwen2");
}

TEST(GgufReader, AcceptsVersion2) {
  GgufWriter w;
  w.set_string("general.name", "v2");
  w.add_tensor("x", DType::kF16, {4}, pattern(8, 1));
  std::vector<uint8_t> bytes = w.serialize();
  bytes[4] = 2;  // v2 has the same layout as v3 (v3 only added big-endian variants)
  auto file = parse_bytes(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->version(), 2u);
  EXPECT_EQ(**(*file)->get_string("general.name"), "v2");
  EXPECT_EQ((*file)->find_tensor("x")->data[7], pattern(8, 1)[7]);
}

class GgufGetters : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufWriter w;
    w.set_string("s", "text");
    w.set_u32("u32", 42);
    w.set_i32("i32", -3);
    w.set_f32("f32", 0.5f);
    w.set_bool("flag", true);
    w.set("u64max", u_val(GgufValueType::kUint64, std::numeric_limits<uint64_t>::max()));
    w.set_string_array("strs", {"x", "yy", ""});
    w.set_i32_array("ints", {1, -2, 3});
    w.set_f32_array("floats", {0.25f, -1.0f});
    w.set("u8s", arr(GgufValueType::kUint8, {u_val(GgufValueType::kUint8, 200)}));
    w.set("nested", arr(GgufValueType::kArray, {arr(GgufValueType::kInt32, {})}));
    bytes_ = w.serialize();
    auto r = parse_bytes(bytes_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    file_ = std::move(*r);
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<GgufFile> file_;
};

TEST_F(GgufGetters, PresentValues) {
  EXPECT_EQ(**file_->get_string("s"), "text");
  EXPECT_EQ(**file_->get_int("u32"), 42);
  EXPECT_EQ(**file_->get_int("i32"), -3);
  EXPECT_EQ(**file_->get_float("f32"), 0.5);
  EXPECT_EQ(**file_->get_float("u32"), 42.0);  // integers read as numbers
  EXPECT_EQ(**file_->get_bool("flag"), true);
  EXPECT_EQ(**file_->get_string_array("strs"), (std::vector<std::string_view>{"x", "yy", ""}));
  EXPECT_EQ(**file_->get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(**file_->get_int_array("u8s"), (std::vector<int64_t>{200}));
  EXPECT_EQ(**file_->get_float_array("floats"), (std::vector<float>{0.25f, -1.0f}));
  EXPECT_EQ(**file_->get_float_array("ints"), (std::vector<float>{1, -2, 3}));
}

TEST_F(GgufGetters, AbsentIsNullopt) {
  EXPECT_FALSE(file_->get_string("nope")->has_value());
  EXPECT_FALSE(file_->get_int("nope")->has_value());
  EXPECT_FALSE(file_->get_float("nope")->has_value());
  EXPECT_FALSE(file_->get_bool("nope")->has_value());
  EXPECT_FALSE(file_->get_string_array("nope")->has_value());
  EXPECT_FALSE(file_->get_int_array("nope")->has_value());
  EXPECT_FALSE(file_->get_float_array("nope")->has_value());
}

template <typename T>
void expect_type_error(const Result<T>& r, std::string_view key) {
  ASSERT_FALSE(r.ok()) << key;
  EXPECT_NE(r.error().message.find("'" + std::string(key) + "'"), std::string::npos)
      << r.error().message;
}

TEST_F(GgufGetters, WrongTypeIsAnErrorNamingTheKey) {
  expect_type_error(file_->get_string("u32"), "u32");
  expect_type_error(file_->get_int("s"), "s");
  expect_type_error(file_->get_int("f32"), "f32");
  expect_type_error(file_->get_int("u64max"), "u64max");  // does not fit in int64
  expect_type_error(file_->get_float("strs"), "strs");
  expect_type_error(file_->get_bool("u32"), "u32");
  expect_type_error(file_->get_string_array("ints"), "ints");
  expect_type_error(file_->get_string_array("s"), "s");
  expect_type_error(file_->get_int_array("strs"), "strs");
  expect_type_error(file_->get_int_array("floats"), "floats");
  expect_type_error(file_->get_float_array("nested"), "nested");
  EXPECT_NE(file_->get_string_array("ints").error().message.find("array of int32"),
            std::string::npos);
}

TEST(GgufValue, Helpers) {
  using T = GgufValueType;
  EXPECT_EQ(gguf_value_type_name(T::kFloat64), "float64");
  EXPECT_EQ(gguf_value_type_name(T::kArray), "array");
  EXPECT_EQ(gguf_value_type_name(static_cast<T>(99)), "unknown");
  EXPECT_TRUE(u_val(T::kUint16, 3).is_integer());
  EXPECT_FALSE(u_val(T::kBool, 1).is_integer());
  EXPECT_TRUE(f_val(T::kFloat32, 1).is_float());
  EXPECT_EQ(u_val(T::kBool, 1).as_int(), 1);
  EXPECT_EQ(i_val(T::kInt8, -4).as_int(), -4);
  EXPECT_EQ(u_val(T::kUint64, ~uint64_t{0}).as_int(), std::nullopt);
  EXPECT_EQ(u_val(T::kUint64, ~uint64_t{0}).as_double(), 18446744073709551615.0);
  EXPECT_EQ(f_val(T::kFloat64, 32768.0).as_int(), 32768);
  EXPECT_EQ(f_val(T::kFloat64, 0.5).as_int(), std::nullopt);
  EXPECT_EQ(f_val(T::kFloat64, NAN).as_int(), std::nullopt);
  EXPECT_EQ(f_val(T::kFloat64, 1e300).as_int(), std::nullopt);
  EXPECT_EQ(i_val(T::kInt64, -9).as_double(), -9.0);
  EXPECT_EQ(s_val("1").as_int(), std::nullopt);
  EXPECT_EQ(s_val("1").as_double(), std::nullopt);
  EXPECT_EQ(arr(T::kUint8, {}).as_int(), std::nullopt);
}

std::string temp_path(std::string_view name) {
  return std::string(WAFER_BINARY_DIR) + "/gguf_test_" + std::to_string(::getpid()) + "_" +
         std::string(name);
}

TEST(GgufFileIo, WriteThenOpen) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("w", DType::kQ8_0, {64, 2}, pattern(4 * 34, 9));
  const std::string path = temp_path("write.gguf");
  ASSERT_TRUE(w.write(path).ok());
  auto mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  EXPECT_EQ(std::vector<uint8_t>(mapped->bytes().begin(), mapped->bytes().end()), w.serialize());
  MappedFile moved = std::move(*mapped);
  EXPECT_EQ(mapped->size(), 0u);
  EXPECT_EQ(mapped->data(), nullptr);
  EXPECT_EQ(moved.size(), w.serialize().size());
  auto file = GgufFile::open(path);
  std::remove(path.c_str());  // the mapping stays valid after unlink
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->find_tensor("w")->type, DType::kQ8_0);
  EXPECT_EQ(std::vector<uint8_t>((*file)->find_tensor("w")->data,
                                 (*file)->find_tensor("w")->data + 4 * 34),
            pattern(4 * 34, 9));
}

TEST(GgufFileIo, WriteToBadPathFails) {
  GgufWriter w;
  Status s = w.write("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("/nonexistent-dir/x.gguf"), std::string::npos);
}

TEST(GgufFileIo, OpenErrorsNameThePath) {
  auto missing = GgufFile::open("/nonexistent-dir/model.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent-dir/model.gguf"), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);

  auto dir = GgufFile::open(WAFER_SHARED_DIR);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);

  const std::string path = temp_path("empty.gguf");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto empty = GgufFile::open(path);
  std::remove(path.c_str());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(empty.error().message.find(path), std::string::npos);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
}

}  // namespace
}  // namespace wafer
