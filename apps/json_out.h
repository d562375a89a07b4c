// Small helpers for the JSON the commands print (Boost.JSON values, compact output).
#pragma once

#include <span>
#include <vector>

#include <boost/json.hpp>

namespace wafer::apps {

template <typename T>
boost::json::array to_json_array(std::span<const T> values) {
  boost::json::array a;
  a.reserve(values.size());
  for (const T& v : values) a.emplace_back(v);
  return a;
}

// JSON cannot hold NaN or infinity: they become null.
inline boost::json::array floats_to_json(std::span<const float> values) {
  boost::json::array a;
  a.reserve(values.size());
  for (float v : values) {
    if (v != v || v - v != 0) a.emplace_back(nullptr);
    else a.emplace_back(static_cast<double>(v));
  }
  return a;
}

}  // namespace wafer::apps
