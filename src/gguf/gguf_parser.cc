// GgufParser: decodes and validates the GGUF header, key/tensor names and metadata values
// (scalars, strings, arrays nested up to kMaxArrayDepth).
#include "gguf/gguf_parser.h"

#include <bit>

#include "gguf/gguf_format.h"

namespace wafer::gguf_detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "GGUF is little-endian and wafer reads it in place");

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
// Smallest encodings, used to bound counts before reserving: a key/value pair is a
// length-prefixed key of at least one byte, a type and at least one value byte; a tensor
// info is a length-prefixed name, n_dims, one dimension, a type and an offset.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;

// Bytes the smallest value of a type takes; 0 for unknown types.
uint64_t min_value_bytes(uint32_t type) {
  switch (static_cast<GgufValueType>(type)) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
      return 8;
    case GgufValueType::kArray:
      return 4 + 8;
  }
  return 0;
}

}  // namespace

Status GgufParser::parse_header(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  if (r_.size() == 0)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: the file is empty (0 bytes); expected a GGUF header");
  uint32_t magic = 0;
  if (!r_.read(&magic) || magic != kMagic) {
    return make_error(ErrorCode::kCorrupt, "gguf: not a GGUF file: it starts with '{}', not 'GGUF'",
                      escape_name(r_.head(4)));
  }
  if (!r_.read(version)) return truncated("header", "version", 4);
  if (*version == 1)
    return make_error(ErrorCode::kUnsupported,
                      "gguf: GGUF version 1 is not supported (only versions 2 and 3); convert the "
                      "model again with a current converter");
  if (*version != 2 && *version != 3) {
    const uint32_t swapped = __builtin_bswap32(*version);
    if (swapped >= 1 && swapped <= 3)
      return make_error(ErrorCode::kUnsupported,
                        "gguf: the file is big-endian (version {} byte-swapped); wafer reads "
                        "little-endian GGUF only",
                        swapped);
    return make_error(*version == 0 ? ErrorCode::kCorrupt : ErrorCode::kUnsupported,
                      "gguf: GGUF version {} is not supported (only versions 2 and 3)", *version);
  }
  if (!r_.read(n_tensors)) return truncated("header", "tensor count", 8);
  if (!r_.read(n_kv)) return truncated("header", "metadata count", 8);
  const uint64_t left = r_.remaining();
  if (*n_kv > left / kMinKvBytes || *n_tensors > left / kMinTensorInfoBytes ||
      *n_kv * kMinKvBytes + *n_tensors * kMinTensorInfoBytes > left)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: the header claims {} metadata entries and {} tensors, which cannot "
                      "fit in the {} bytes that follow it; the file is truncated or corrupt",
                      *n_kv, *n_tensors, left);
  return {};
}

Status GgufParser::read_name(std::string_view what, uint64_t index, uint64_t count,
                             std::string_view* out) {
  const auto where = [&] { return fmt::format("{} {} of {}", what, index, count); };
  uint64_t len = 0;
  if (!r_.read(&len)) return truncated(where(), "name length", 8);
  if (len > kMaxNameBytes)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: {}: the name is {} bytes long, over the {}-byte limit", where(), len,
                      kMaxNameBytes);
  if (len > r_.remaining()) return truncated(where(), "name", len);
  *out = r_.take(len);
  if (out->empty()) return make_error(ErrorCode::kCorrupt, "gguf: {}: the name is empty", where());
  if (!is_valid_name(*out))
    return make_error(ErrorCode::kCorrupt,
                      "gguf: {}: the name '{}' is not valid (control characters or malformed "
                      "UTF-8)",
                      where(), escape_name(*out));
  return {};
}

Status GgufParser::read_type(const ValueSite& site, uint32_t* type) {
  if (!r_.read(type)) return truncated(site.str(), "value type", 4);
  return {};
}

Status GgufParser::read_string(const ValueSite& site, std::string* out) {
  uint64_t len = 0;
  if (!r_.read(&len)) return truncated(site.str(), "string length", 8);
  if (len > r_.remaining()) return truncated(site.str(), "string", len);
  out->assign(r_.take(len));
  return {};
}

Status GgufParser::parse_value(uint32_t type, int depth, const ValueSite& site, GgufValue* out) {
  out->type = static_cast<GgufValueType>(type);
  switch (out->type) {
    case GgufValueType::kUint8:
      return read_into<uint8_t>(site, type, &out->u);
    case GgufValueType::kInt8:
      return read_into<int8_t>(site, type, &out->i);
    case GgufValueType::kUint16:
      return read_into<uint16_t>(site, type, &out->u);
    case GgufValueType::kInt16:
      return read_into<int16_t>(site, type, &out->i);
    case GgufValueType::kUint32:
      return read_into<uint32_t>(site, type, &out->u);
    case GgufValueType::kInt32:
      return read_into<int32_t>(site, type, &out->i);
    case GgufValueType::kUint64:
      return read_into<uint64_t>(site, type, &out->u);
    case GgufValueType::kInt64:
      return read_into<int64_t>(site, type, &out->i);
    case GgufValueType::kFloat32:
      return read_into<float>(site, type, &out->f);
    case GgufValueType::kFloat64:
      return read_into<double>(site, type, &out->f);
    case GgufValueType::kBool: {
      WAFER_RETURN_IF_ERROR(read_into<uint8_t>(site, type, &out->u));
      if (out->u > 1)
        return make_error(ErrorCode::kCorrupt, "gguf: {}: bool value {} is neither 0 nor 1",
                          site.str(), out->u);
      return {};
    }
    case GgufValueType::kString:
      return read_string(site, &out->str);
    case GgufValueType::kArray:
      if (depth >= kMaxArrayDepth)
        return make_error(ErrorCode::kCorrupt, "gguf: {}: arrays are nested more than {} deep",
                          site.str(), kMaxArrayDepth);
      return parse_array(depth, site, out);
  }
  return make_error(ErrorCode::kCorrupt,
                    "gguf: {}: value type {} is unknown (valid types are 0 to 12)", site.str(),
                    type);
}

Status GgufParser::parse_array(int depth, const ValueSite& site, GgufValue* out) {
  uint32_t elem_type = 0;
  if (!r_.read(&elem_type)) return truncated(site.str(), "array element type", 4);
  const uint64_t min_bytes = min_value_bytes(elem_type);
  if (min_bytes == 0)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: {}: array element type {} is unknown (valid types are 0 to 12)",
                      site.str(), elem_type);
  uint64_t count = 0;
  if (!r_.read(&count)) return truncated(site.str(), "array length", 8);
  const GgufValueType elem = static_cast<GgufValueType>(elem_type);
  if (count > r_.remaining() / min_bytes)
    return make_error(ErrorCode::kCorrupt,
                      "gguf: {}: an array of {} {} elements needs at least {} bytes each but only "
                      "{} bytes remain (file size {}); the file is truncated or corrupt",
                      site.str(), count, gguf_value_type_name(elem), min_bytes, r_.remaining(),
                      r_.size());
  array_elements_ += count;
  if (array_elements_ > kMaxArrayElements)
    return make_error(ErrorCode::kOutOfRange,
                      "gguf: {}: metadata arrays hold more than {} elements in total, over "
                      "wafer's limit",
                      site.str(), kMaxArrayElements);
  out->elem_type = elem;
  out->array.resize(count);
  // Fast paths for the big arrays of real files (vocabularies): every fixed-size element
  // is in bounds after the count check above, and strings skip the per-element dispatch.
  switch (elem) {
    case GgufValueType::kInt32:
      fill_scalars<int32_t>(elem, &GgufValue::i, out);
      return {};
    case GgufValueType::kUint32:
      fill_scalars<uint32_t>(elem, &GgufValue::u, out);
      return {};
    case GgufValueType::kFloat32:
      fill_scalars<float>(elem, &GgufValue::f, out);
      return {};
    case GgufValueType::kString: {
      ValueSite elem_site{site.key, true, 0};
      for (uint64_t i = 0; i < count; ++i) {
        elem_site.element = i;
        out->array[i].type = elem;
        WAFER_RETURN_IF_ERROR(read_string(elem_site, &out->array[i].str));
      }
      return {};
    }
    default:
      break;
  }
  ValueSite elem_site{site.key, true, 0};
  for (uint64_t i = 0; i < count; ++i) {
    elem_site.element = i;
    WAFER_RETURN_IF_ERROR(parse_value(elem_type, depth + 1, elem_site, &out->array[i]));
  }
  return {};
}
}  // namespace wafer::gguf_detail
