// GGUF reader: assembles a GgufFile from the parsed header, metadata and tensor table, and
// checks every tensor's shape, type, alignment and data range against the file, so later
// code may trust them.
#include "gguf/gguf.h"
#include "gguf/gguf_format.h"
#include "gguf/gguf_parser.h"

namespace wafer {
namespace {

using gguf_detail::GgufParser;
using gguf_detail::ValueSite;

std::string format_shape(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += fmt::format("{}{}", d ? ", " : "", shape[d]);
  return s + "]";
}

// Reads one tensor info (name already read); checks everything that does not depend on
// where the data section starts.
Status parse_tensor_info(GgufParser& p, uint64_t alignment, GgufTensorInfo* t) {
  const std::string_view name = t->name;
  uint32_t n_dims = 0;
  WAFER_RETURN_IF_ERROR(p.read_field(name, "dimension count", &n_dims));
  if (n_dims == 0 || n_dims > kMaxDims)
    return make_error(ErrorCode::kCorrupt, "gguf: tensor '{}': {} dimensions; a tensor has 1 to {}",
                      name, n_dims, kMaxDims);
  t->shape.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d)
    WAFER_RETURN_IF_ERROR(p.read_field(name, "dimension", &t->shape[d]));
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    if (t->shape[d] == 0)
      return make_error(ErrorCode::kCorrupt, "gguf: tensor '{}': dimension {} of shape {} is 0",
                        name, d, format_shape(t->shape));
    if (__builtin_mul_overflow(elements, t->shape[d], &elements) ||
        elements > static_cast<uint64_t>(INT64_MAX))
      return make_error(ErrorCode::kCorrupt,
                        "gguf: tensor '{}': shape {} has more than 2^63-1 elements", name,
                        format_shape(t->shape));
  }
  t->num_elements = elements;

  uint32_t type_id = 0;
  WAFER_RETURN_IF_ERROR(p.read_field(name, "type", &type_id));
  const DTypeTraits* traits = dtype_traits(type_id);
  if (traits == nullptr)
    return make_error(ErrorCode::kUnsupported,
                      "gguf: tensor '{}': type id {} is not a tensor type wafer knows", name,
                      type_id);
  t->type = static_cast<DType>(type_id);
  if (t->shape[0] % traits->block_elems != 0)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: tensor '{}': row length {} (ne[0]) is not a multiple of the {} block "
                      "size {}",
                      name, t->shape[0], traits->name, traits->block_elems);
  // elements fits in int64 and block_bytes/block_elems is at most 4.5, so only the
  // multiplication can overflow.
  if (__builtin_mul_overflow(elements / traits->block_elems, traits->block_bytes, &t->num_bytes))
    return make_error(ErrorCode::kCorrupt,
                      "gguf: tensor '{}': shape {} of {} overflows a 64-bit size", name,
                      format_shape(t->shape), traits->name);

  WAFER_RETURN_IF_ERROR(p.read_field(name, "data offset", &t->offset));
  if (t->offset % alignment != 0)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: tensor '{}': data offset {} is not a multiple of the alignment {}",
                      name, t->offset, alignment);
  return {};
}

// general.alignment, when present, must be a u32 power of two.
Result<uint64_t> read_alignment(const std::vector<std::pair<std::string, GgufValue>>& kv,
                                const std::map<std::string, size_t, std::less<>>& index) {
  auto it = index.find(std::string_view(kAlignmentKey));
  if (it == index.end()) return kDefaultAlignment;
  const GgufValue& v = kv[it->second].second;
  if (v.type != GgufValueType::kUint32)
    return make_error(ErrorCode::kCorrupt, "gguf: key '{}' is a {}, expected a uint32",
                      kAlignmentKey, gguf_value_type_name(v.type));
  if (v.u == 0 || (v.u & (v.u - 1)) != 0)
    return make_error(ErrorCode::kCorrupt, "gguf: key '{}' is {}, which is not a power of two",
                      kAlignmentKey, v.u);
  return v.u;
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::parse(MappedFile file) {
  std::unique_ptr<GgufFile> gguf(new GgufFile());
  gguf->file_ = std::move(file);
  GgufParser p(gguf->file_.bytes());

  uint64_t n_tensors = 0, n_kv = 0;
  WAFER_RETURN_IF_ERROR(p.parse_header(&gguf->version_, &n_tensors, &n_kv));

  gguf->kv_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    WAFER_RETURN_IF_ERROR(p.read_name("metadata entry", i, n_kv, &key));
    if (auto it = gguf->kv_index_.find(key); it != gguf->kv_index_.end())
      return make_error(ErrorCode::kCorrupt,
                        "gguf: key '{}' appears twice (metadata entries {} and {})", key,
                        it->second, i);
    const ValueSite site{key};
    uint32_t type = 0;
    WAFER_RETURN_IF_ERROR(p.read_type(site, &type));
    GgufValue value;
    WAFER_RETURN_IF_ERROR(p.parse_value(type, 0, site, &value));
    gguf->kv_.emplace_back(std::string(key), std::move(value));
    gguf->kv_index_.emplace(std::string(key), i);
  }
  WAFER_ASSIGN_OR_RETURN(gguf->alignment_, read_alignment(gguf->kv_, gguf->kv_index_));

  gguf->tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string_view name;
    WAFER_RETURN_IF_ERROR(p.read_name("tensor info", i, n_tensors, &name));
    if (auto it = gguf->tensor_index_.find(name); it != gguf->tensor_index_.end())
      return make_error(ErrorCode::kCorrupt,
                        "gguf: tensor '{}' appears twice (tensor infos {} and {})", name,
                        it->second, i);
    GgufTensorInfo& t = gguf->tensors_.emplace_back();
    t.name = name;
    WAFER_RETURN_IF_ERROR(parse_tensor_info(p, gguf->alignment_, &t));
    gguf->tensor_index_.emplace(t.name, i);
  }

  // The data section starts at the next multiple of the alignment; a file without tensors
  // may end before it.
  const uint64_t size = gguf->file_.size();
  const uint64_t data_start =
      (p.reader().pos() + gguf->alignment_ - 1) / gguf->alignment_ * gguf->alignment_;
  for (GgufTensorInfo& t : gguf->tensors_) {
    uint64_t begin = 0, end = 0;
    if (__builtin_add_overflow(data_start, t.offset, &begin))
      return make_error(ErrorCode::kCorrupt,
                        "gguf: tensor '{}': data offset {} (after the data section start {}) "
                        "lies past the end of the file (size {}); the file is truncated or corrupt",
                        t.name, t.offset, data_start, size);
    if (__builtin_add_overflow(begin, t.num_bytes, &end) || end > size)
      return make_error(ErrorCode::kCorrupt,
                        "gguf: tensor '{}': data [offset {}, {} bytes] runs past the end of the "
                        "file (size {}); the file is truncated or corrupt",
                        t.name, begin, t.num_bytes, size);
    t.data = gguf->file_.data() + begin;
  }
  return gguf;
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  WAFER_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  auto parsed = parse(std::move(file));
  if (!parsed.ok()) {
    Error e = parsed.take_error();
    e.message = fmt::format("{}: {}", path, e.message);
    return e;
  }
  return parsed;
}

}  // namespace wafer
