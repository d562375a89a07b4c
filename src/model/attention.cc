// Attention drivers: work split over (token, kv head, position split), partial-softmax
// merge, the portable range kernel and the double-precision reference.
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "base/half.h"
#include "kernels/cpu_features.h"

namespace wafer {
namespace {

constexpr int64_t kMinPositionsPerSplit = 256;

float load(const AttentionArgs& a, const uint8_t* base, int64_t pos, int64_t index) {
  const uint8_t* row = base + pos * a.cache->row_bytes();
  if (a.cache->type() == DType::kF16) return f16_to_f32(reinterpret_cast<const uint16_t*>(row)[index]);
  return reinterpret_cast<const float*>(row)[index];
}

bool force_reference() {
  const char* isa = std::getenv("WAFER_ISA");
  return isa && std::string_view(isa) == "reference";
}

}  // namespace

void attend_range_portable(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                           int64_t begin, int64_t end, SoftmaxPartial* part, float* acc) {
  const int64_t d = a.head_dim;
  const uint8_t* keys = a.cache->keys(a.layer);
  const uint8_t* values = a.cache->values(a.layer);
  std::vector<float> k(d), v(d);
  for (int64_t pos = begin; pos < end; ++pos) {
    for (int64_t i = 0; i < d; ++i) {
      k[i] = load(a, keys, pos, kv_head * d + i);
      v[i] = load(a, values, pos, kv_head * d + i);
    }
    for (int64_t g = 0; g < group; ++g) {
      float dot = 0.0f;
      for (int64_t i = 0; i < d; ++i) dot += q[g * d + i] * k[i];
      const float s = dot * a.scale;
      SoftmaxPartial& p = part[g];
      float* o = acc + g * d;
      if (s > p.max) {  // rescale what was accumulated under the old maximum
        const float c = std::exp(p.max - s);
        p.sum *= c;
        for (int64_t i = 0; i < d; ++i) o[i] *= c;
        p.max = s;
      }
      const float w = std::exp(s - p.max);
      p.sum += w;
      for (int64_t i = 0; i < d; ++i) o[i] += w * v[i];
    }
  }
}

void attention_with(const AttentionArgs& a, ThreadPool& pool, AttendRangeFn attend) {
  const int64_t group = a.n_head / a.n_head_kv, d = a.head_dim;
  // With too few (kv head) units for the threads, a token's positions are split. The split
  // depends only on the token's own position, never on how many tokens the call holds, so a
  // token's output is bit for bit the same decoded alone or scored in a batch (speculative
  // verification relies on it).
  const size_t n = a.num_tokens;
  std::vector<int64_t> splits(n, 1);
  std::vector<size_t> first_unit(n + 1, 0);  // token t's units are [first_unit[t], first_unit[t+1])
  for (size_t t = 0; t < n; ++t) {
    const int64_t n_pos = a.start_pos + static_cast<int64_t>(t) + 1;
    if (a.n_head_kv < 2 * pool.num_threads())
      splits[t] = std::clamp<int64_t>(n_pos / kMinPositionsPerSplit, 1,
                                      (2 * pool.num_threads() + a.n_head_kv - 1) / a.n_head_kv);
    first_unit[t + 1] = first_unit[t] + static_cast<size_t>(a.n_head_kv * splits[t]);
  }
  const size_t units = first_unit[n];
  const size_t unit_floats = static_cast<size_t>(group * (d + 2));
  std::vector<float> partials(units * unit_floats);
  pool.parallel_for(units, 1, [&](size_t begin, size_t end) {
    for (size_t u = begin; u < end; ++u) {
      const size_t t = static_cast<size_t>(std::upper_bound(first_unit.begin(), first_unit.end(), u) - first_unit.begin()) - 1;
      const size_t local = u - first_unit[t];
      const int64_t s_t = splits[t];
      const int64_t kv_head = static_cast<int64_t>(local) / s_t;
      const int64_t split = static_cast<int64_t>(local) % s_t;
      const int64_t n_pos = a.start_pos + static_cast<int64_t>(t) + 1;
      const int64_t p0 = n_pos * split / s_t, p1 = n_pos * (split + 1) / s_t;
      float* slot = &partials[u * unit_floats];
      auto* part = reinterpret_cast<SoftmaxPartial*>(slot);
      float* acc = slot + 2 * group;
      for (int64_t g = 0; g < group; ++g) part[g] = {-std::numeric_limits<float>::infinity(), 0.0f};
      std::fill_n(acc, group * d, 0.0f);
      const float* q = a.q + t * a.n_head * d + kv_head * group * d;
      if (p0 < p1) attend(a, q, kv_head, group, p0, p1, part, acc);
    }
  });
  // Merge the splits of each (token, kv head): rescale to the common maximum, normalise.
  for (size_t t = 0; t < n; ++t) {
    for (int64_t kv_head = 0; kv_head < a.n_head_kv; ++kv_head) {
      const int64_t s_t = splits[t];
      const size_t first = first_unit[t] + static_cast<size_t>(kv_head * s_t);
      for (int64_t g = 0; g < group; ++g) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t s = 0; s < s_t; ++s)
          m = std::max(m, reinterpret_cast<SoftmaxPartial*>(&partials[(first + s) * unit_floats])[g].max);
        float* out = a.out + t * a.n_head * d + (kv_head * group + g) * d;
        std::fill_n(out, d, 0.0f);
        float sum = 0.0f;
        for (int64_t s = 0; s < s_t; ++s) {
          const float* slot = &partials[(first + s) * unit_floats];
          const SoftmaxPartial p = reinterpret_cast<const SoftmaxPartial*>(slot)[g];
          if (p.sum == 0.0f) continue;
          const float c = std::exp(p.max - m);
          sum += p.sum * c;
          const float* acc = slot + 2 * group + g * d;
          for (int64_t i = 0; i < d; ++i) out[i] += acc[i] * c;
        }
        const float inv = 1.0f / sum;
        for (int64_t i = 0; i < d; ++i) out[i] *= inv;
      }
    }
  }
}

void attention_portable(const AttentionArgs& args, ThreadPool& pool) {
  attention_with(args, pool, attend_range_portable);
}

void attention(const AttentionArgs& args, ThreadPool& pool) {
  static const bool avx512 = !force_reference() && detect_cpu_features().avx512;
  if (avx512 && args.cache->type() == DType::kF16 && args.head_dim % 16 == 0 && args.head_dim <= 256)
    attention_with(args, pool, attend_range_avx512_f16);
  else
    attention_portable(args, pool);
}

namespace reference {

void attention(const AttentionArgs& a, ThreadPool& pool) {
  const int64_t group = a.n_head / a.n_head_kv, d = a.head_dim;
  const uint8_t* keys = a.cache->keys(a.layer);
  const uint8_t* values = a.cache->values(a.layer);
  for (size_t t = 0; t < a.num_tokens; ++t) {
    const int64_t n_pos = a.start_pos + static_cast<int64_t>(t) + 1;
    std::vector<double> scores(n_pos);
    for (int64_t h = 0; h < a.n_head; ++h) {
      const int64_t kv = h / group;
      const float* q = a.q + t * a.n_head * d + h * d;
      double max_score = -std::numeric_limits<double>::infinity();
      for (int64_t p = 0; p < n_pos; ++p) {
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * load(a, keys, p, kv * d + i);
        scores[p] = dot * a.scale;
        max_score = std::max(max_score, scores[p]);
      }
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - max_score));
      for (int64_t i = 0; i < d; ++i) {
        double o = 0;
        for (int64_t p = 0; p < n_pos; ++p) o += scores[p] * load(a, values, p, kv * d + i);
        a.out[t * a.n_head * d + h * d + i] = static_cast<float>(o / sum);
      }
    }
  }
}

}  // namespace reference
}  // namespace wafer
