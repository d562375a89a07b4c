// Attention drivers: work split over (kv head, chunk of positions, run of tokens), the
// chunks' partial-softmax merge, the portable kernel and the double-precision reference.
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

// Tokens a task takes at once (they share each converted block of keys and values), and the
// most floats of partial states one wave of tokens keeps (16 MiB).
constexpr size_t kTaskTokens = 16;
constexpr size_t kMaxStateFloats = size_t{4} << 20;

float load(const KvCache& cache, const uint8_t* p) {
  if (cache.type() == DType::kF16) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
  }
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// Element `index` of position pos's key and value.
float load_key(const AttentionArgs& a, int64_t pos, int64_t index) {
  return load(*a.cache, a.cache->key_at(a.layer, pos, index));
}
float load_value(const AttentionArgs& a, int64_t pos, int64_t index) {
  return load(*a.cache, a.cache->value_row(a.layer, pos) + index * a.cache->elem_bytes());
}

bool force_reference() {
  const char* isa = std::getenv("WAFER_ISA");
  return isa && std::string_view(isa) == "reference";
}

}  // namespace

void attend_portable(const AttentionArgs& a, const AttendTask& task) {
  const int64_t d = a.head_dim, group = task.group, kv_head = task.kv_head;
  int64_t last = task.begin;
  for (size_t t = 0; t < task.num_tokens; ++t) last = std::max(last, task.end[t]);
  std::vector<float> k(d), v(d);
  // Each position is decoded once for all the task's tokens; each token still takes its
  // positions in order.
  for (int64_t pos = task.begin; pos < last; ++pos) {
    for (int64_t i = 0; i < d; ++i) {
      k[i] = load_key(a, pos, kv_head * d + i);
      v[i] = load_value(a, pos, kv_head * d + i);
    }
    for (size_t t = 0; t < task.num_tokens; ++t) {
      if (pos >= task.end[t]) continue;
      const float* q = task.q + t * task.q_stride;
      auto* part = reinterpret_cast<SoftmaxPartial*>(task.state + t * task.state_stride);
      float* acc = task.state + t * task.state_stride + 2 * group;
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
}

void attention_with(const AttentionArgs& a, ThreadPool& pool, AttendFn attend) {
  const int64_t group = a.n_head / a.n_head_kv, d = a.head_dim;
  const size_t n = a.num_tokens;
  if (n == 0) return;
  const int64_t last_end = a.start_pos + static_cast<int64_t>(n);  // positions the last token sees
  const size_t chunks = static_cast<size_t>((last_end + kAttentionChunk - 1) / kAttentionChunk);
  const size_t kv_heads = static_cast<size_t>(a.n_head_kv);
  const size_t state_floats = static_cast<size_t>(group * (d + 2));
  // Tokens are taken in waves that bound the partial states' memory, and within a wave in
  // runs of kTaskTokens per task.
  const size_t per_token = kv_heads * chunks * state_floats;
  const size_t wave = std::min(n, std::max(kTaskTokens, kMaxStateFloats / per_token / kTaskTokens * kTaskTokens));
  // Reused between calls (one per layer and step): each task initialises its own states.
  // Named through references so the pool's threads, which run the tasks, see the caller's.
  thread_local std::vector<float> states_buffer;
  thread_local std::vector<int64_t> ends_buffer;
  std::vector<float>& states = states_buffer;
  std::vector<int64_t>& ends = ends_buffer;
  for (size_t w0 = 0; w0 < n; w0 += wave) {
    const size_t wn = std::min(wave, n - w0);
    const size_t runs = (wn + kTaskTokens - 1) / kTaskTokens;
    // states[((kv * chunks + c) * wn + t) * state_floats]: token w0 + t, kv head, chunk c.
    states.resize(kv_heads * chunks * wn * state_floats);
    ends.resize(chunks * wn);
    for (size_t c = 0; c < chunks; ++c)
      for (size_t t = 0; t < wn; ++t)
        ends[c * wn + t] = std::min<int64_t>(a.start_pos + static_cast<int64_t>(w0 + t) + 1,
                                             static_cast<int64_t>(c + 1) * kAttentionChunk);
    pool.parallel_for(kv_heads * chunks * runs, 1, [&](size_t begin, size_t end) {
      for (size_t u = begin; u < end; ++u) {
        const size_t run = u % runs, c = u / runs % chunks, kv = u / runs / chunks;
        const size_t t0 = run * kTaskTokens, tn = std::min(kTaskTokens, wn - t0);
        float* state = &states[((kv * chunks + c) * wn + t0) * state_floats];
        for (size_t t = 0; t < tn; ++t) {
          float* st = state + t * state_floats;
          auto* part = reinterpret_cast<SoftmaxPartial*>(st);
          for (int64_t g = 0; g < group; ++g) part[g] = {-std::numeric_limits<float>::infinity(), 0.0f};
          std::fill_n(st + 2 * group, group * d, 0.0f);
        }
        AttendTask task;
        task.q = a.q + (w0 + t0) * a.n_head * d + kv * group * d;
        task.q_stride = static_cast<size_t>(a.n_head * d);
        task.kv_head = static_cast<int64_t>(kv);
        task.group = group;
        task.begin = static_cast<int64_t>(c) * kAttentionChunk;
        task.end = &ends[c * wn + t0];
        task.num_tokens = tn;
        task.state = state;
        task.state_stride = state_floats;
        if (task.end[tn - 1] > task.begin) attend(a, task);
      }
    });
    // Merge each (token, head)'s chunks in chunk order: rescale to the common maximum, normalise.
    pool.parallel_for(wn, 8, [&](size_t begin, size_t end) {
      for (size_t t = begin; t < end; ++t) {
        for (size_t kv = 0; kv < kv_heads; ++kv) {
          for (int64_t g = 0; g < group; ++g) {
            auto part_at = [&](size_t c) {
              return reinterpret_cast<const SoftmaxPartial*>(&states[((kv * chunks + c) * wn + t) * state_floats])[g];
            };
            float m = -std::numeric_limits<float>::infinity();
            for (size_t c = 0; c < chunks; ++c) m = std::max(m, part_at(c).max);
            float* out = a.out + (w0 + t) * a.n_head * d + (static_cast<int64_t>(kv) * group + g) * d;
            std::fill_n(out, d, 0.0f);
            float sum = 0.0f;
            for (size_t c = 0; c < chunks; ++c) {
              const SoftmaxPartial p = part_at(c);
              if (p.sum == 0.0f) continue;
              const float scale = std::exp(p.max - m);
              sum += p.sum * scale;
              const float* acc = &states[((kv * chunks + c) * wn + t) * state_floats] + 2 * group + g * d;
              for (int64_t i = 0; i < d; ++i) out[i] += acc[i] * scale;
            }
            const float inv = 1.0f / sum;
            for (int64_t i = 0; i < d; ++i) out[i] *= inv;
          }
        }
      }
    });
  }
}

void attention_portable(const AttentionArgs& args, ThreadPool& pool) {
  attention_with(args, pool, attend_portable);
}

void attention(const AttentionArgs& args, ThreadPool& pool) {
  static const bool avx512 = !force_reference() && detect_cpu_features().avx512;
  static const bool avx2 = !force_reference() && detect_cpu_features().avx2;
  const bool f16 = args.cache->type() == DType::kF16 && args.head_dim <= 256;
  if (avx512 && f16 && args.head_dim % 16 == 0)
    attention_with(args, pool, attend_avx512_f16);
  else if (avx2 && f16 && args.head_dim % 8 == 0)
    attention_with(args, pool, attend_avx2_f16);
  else
    attention_portable(args, pool);
}

namespace reference {

void attention(const AttentionArgs& a, ThreadPool& pool) {
  const int64_t group = a.n_head / a.n_head_kv, d = a.head_dim;
  for (size_t t = 0; t < a.num_tokens; ++t) {
    const int64_t n_pos = a.start_pos + static_cast<int64_t>(t) + 1;
    std::vector<double> scores(n_pos);
    for (int64_t h = 0; h < a.n_head; ++h) {
      const int64_t kv = h / group;
      const float* q = a.q + t * a.n_head * d + h * d;
      double max_score = -std::numeric_limits<double>::infinity();
      for (int64_t p = 0; p < n_pos; ++p) {
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * load_key(a, p, kv * d + i);
        scores[p] = dot * a.scale;
        max_score = std::max(max_score, scores[p]);
      }
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - max_score));
      for (int64_t i = 0; i < d; ++i) {
        double o = 0;
        for (int64_t p = 0; p < n_pos; ++p) o += scores[p] * load_value(a, p, kv * d + i);
        a.out[t * a.n_head * d + h * d + i] = static_cast<float>(o / sum);
      }
    }
  }
}

}  // namespace reference
}  // namespace wafer
