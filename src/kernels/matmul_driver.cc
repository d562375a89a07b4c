// The matmul driver shared by every level: prepares activations once per call, then splits
// the weight rows across the pool in chunks taken dynamically (a core slowed by another
// process just takes fewer). Large token counts (prefill) go to the panel products of
// amx_gemm.h: bf16 panels on AMX tiles or AVX-512 BF16, exact f32 panels for F32/F16 weights
// where the level has them, and for every weight type on AVX2.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "kernels/amx_gemm.h"
#include "kernels/dispatch.h"
#include "kernels/repack.h"

namespace wafer::kernels {
namespace {

// Rows per AMX work item (its y block stays in L2) and k elements per packed panel.
constexpr size_t kAmxRowBlock = 128;
constexpr size_t kAmxKBlock = 1024;
// Activation quantisation runs on the pool above this many elements.
constexpr size_t kParallelPrepareElems = size_t{1} << 16;

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// Per-thread scratch that grows to the largest request and is then reused, so steady-state
// calls allocate nothing. Slot 0 holds a call's activations (written by the calling thread
// and the pool, read by all), slot 1 a worker's private panels, slot 2 a matmul_shared's
// second quantised format.
uint8_t* scratch(int slot, size_t bytes) {
  thread_local std::vector<uint8_t> buffers[3];
  std::vector<uint8_t>& b = buffers[slot];
  if (b.size() < bytes + 64) b.resize(bytes + 64);
  const uintptr_t p = reinterpret_cast<uintptr_t>(b.data());
  return b.data() + (round_up(p, 64) - p);
}

// Hands out 64-byte aligned pieces of a scratch buffer.
class Carver {
 public:
  explicit Carver(uint8_t* base) : base_(base) {}
  template <typename T>
  T* take(size_t count) {
    T* p = reinterpret_cast<T*>(base_ + used_);
    used_ += round_up(count * sizeof(T), 64);
    return p;
  }
  size_t used() const { return used_; }

 private:
  uint8_t* base_;
  size_t used_ = 0;
};

// Runs fn(begin, end) over [0, n) in chunks of `chunk`, handed out dynamically.
template <typename Fn>
void parallel_chunks(ThreadPool& pool, size_t n, size_t chunk, const Fn& fn) {
  const size_t num_chunks = (n + chunk - 1) / chunk;
  if (pool.num_threads() == 1 || num_chunks <= 1) {
    fn(size_t{0}, n);
    return;
  }
  std::atomic<size_t> next{0};
  pool.run([&](int) {
    for (size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < num_chunks;)
      fn(c * chunk, std::min(n, (c + 1) * chunk));
  });
}

template <typename Fn>
void for_tokens(ThreadPool& pool, size_t num_tokens, size_t cols, const Fn& fn) {
  if (num_tokens * cols < kParallelPrepareElems) fn(size_t{0}, num_tokens);
  else parallel_chunks(pool, num_tokens, 1, fn);
}

Activations prepare_activations(const KernelTable& k, ActFormat format, const float* x,
                                size_t num_tokens, size_t cols, ThreadPool& pool, bool block_sums = false,
                                int slot = 0) {
  Activations a;
  a.cols = cols;
  a.x = x;
  if (format == ActFormat::kFloat) return a;
  const size_t n = num_tokens * cols;
  const bool b32 = format == ActFormat::kQ8Block32;
  const size_t bytes = round_up(n, 64) + 5 * round_up(n / 4 * sizeof(float), 64);
  Carver c(scratch(slot, bytes));
  int8_t* qs = c.take<int8_t>(n);
  a.qs = qs;
  if (b32) {
    float* ls = c.take<float>(n / 4);
    int32_t* ns = c.take<int32_t>(n / 4);
    int32_t* bs = block_sums ? c.take<int32_t>(n / 32) : nullptr;
    a.lane_scale = ls;
    a.lane_neg_sum = ns;
    a.block_neg_sum128 = bs;
    for_tokens(pool, num_tokens, cols, [&](size_t t0, size_t t1) {
      for (size_t t = t0; t < t1; ++t) {
        k.quantize_q8_block32(x + t * cols, cols, qs + t * cols, ls + t * cols / 4, ns + t * cols / 4);
        if (bs == nullptr) continue;
        const int32_t* lane = ns + t * cols / 4;
        for (size_t b = 0; b < cols / 32; ++b) {
          int32_t sum = 0;
          for (size_t i = 0; i < 8; ++i) sum += lane[8 * b + i];
          bs[t * cols / 32 + b] = 128 * sum;
        }
      }
    });
  } else {
    float* sc = c.take<float>(n / 256);
    int16_t* gs = c.take<int16_t>(n / 16);
    a.scale = sc;
    a.group_sum = gs;
    for_tokens(pool, num_tokens, cols, [&](size_t t0, size_t t1) {
      for (size_t t = t0; t < t1; ++t)
        k.quantize_q8_block256(x + t * cols, cols, qs + t * cols, sc + t * cols / 256, gs + t * cols / 16);
    });
  }
  return a;
}

Matrix to_matrix(const WeightView& w) {
  return Matrix{w.type, w.rows, w.cols, w.row_stride_bytes(), w.data, w.layout};
}

// Elements [col_begin, col_begin + n) of a row decoded by the level, in either layout
// (a repacked row is first put back into the file's bytes, which the decoders read).
void decode_row(const KernelTable& k, const Matrix& m, size_t row, size_t col_begin, size_t n, float* out) {
  if (m.layout == WeightLayout::kRows) return k.dequantize(m, row, col_begin, n, out);
  thread_local std::vector<uint8_t> bytes;
  const size_t block = traits(m.type).block_elems;
  WAFER_CHECK(col_begin % block == 0 && n % block == 0, "a repacked row is read in whole blocks");
  bytes.resize(row_bytes(m.type, n));
  unpack_rows16(m, row, col_begin / block, n / block, bytes.data());
  const Matrix one{m.type, 1, n, bytes.size(), bytes.data(), WeightLayout::kRows};
  k.dequantize(one, 0, 0, n, out);
}

// The level's kernel for a 16-row layout (null where it has none).
MatvecFn rows16_kernel(const KernelTable& k, WeightLayout layout) {
  switch (layout) {
    case WeightLayout::kQ8_0Rows16: return k.matvec_q8_0_rows16;
    case WeightLayout::kQ4_KRows16: return k.matvec_q4_k_rows16;
    case WeightLayout::kQ5_0Rows16: return k.matvec_q5_0_rows16;
    case WeightLayout::kQ6_KRows16: return k.matvec_q6_k_rows16;
    case WeightLayout::kRows: break;
  }
  return nullptr;
}

// Whether a layout's kernel reads kQ8Block32's block sums (Activations::block_neg_sum128).
bool needs_block_sums(WeightLayout layout) {
  return layout == WeightLayout::kQ8_0Rows16 || layout == WeightLayout::kQ5_0Rows16;
}

MatvecFn matvec_fn(const KernelTable& k, const Matrix& m) {
  const MatvecFn fn = m.layout == WeightLayout::kRows ? k.matvec[weight_slot(m.type)] : rows16_kernel(k, m.layout);
  WAFER_CHECK(fn != nullptr, "{} kernels cannot read repacked weights", k.name);
  return fn;
}

// A matrix's rows in chunks taken dynamically, largest first: each takes half of what is
// left divided among the threads (long contiguous runs stream best), down to 1/16 of a
// thread's share, so the thread that finishes last waits for little more than a small
// chunk. Boundaries are multiples of 16 rows (whole groups of a repacked layout).
void append_row_chunks(size_t rows, size_t threads, std::vector<std::pair<size_t, size_t>>* out) {
  const size_t smallest = std::max<size_t>(16, round_up(rows / (threads * 16), 16));
  for (size_t r = 0; r < rows;) {
    const size_t n = std::max(smallest, round_up((rows - r) / (2 * threads), 16));
    out->emplace_back(r, std::min(rows, r + n));
    r += n;
  }
}

void matvec_matmul(const KernelTable& k, const Matrix& m, const float* x, size_t num_tokens,
                   float* y, ThreadPool& pool) {
  const MatvecFn fn = matvec_fn(k, m);
  const Activations a =
      prepare_activations(k, act_format(m.type), x, num_tokens, m.cols, pool, needs_block_sums(m.layout));
  // Reused, so a call allocates nothing; the workers reach the caller's vector through the
  // reference (a thread_local named inside the lambda would be their own).
  thread_local std::vector<std::pair<size_t, size_t>> reused;
  std::vector<std::pair<size_t, size_t>>& chunks = reused;
  chunks.clear();
  append_row_chunks(m.rows, static_cast<size_t>(pool.num_threads()), &chunks);
  parallel_chunks(pool, chunks.size(), 1, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) fn(m, chunks[c].first, chunks[c].second, a, num_tokens, y);
  });
}

// Several matrices over one input: activations prepared once per format (Q8_0 block sums
// included whenever a repacked matrix needs them: the other kernels ignore them), then the
// chunks of every matrix handed out in one pool run.
void matvec_matmul_shared(const KernelTable& k, std::span<const MatmulTarget> targets, const float* x,
                          size_t num_tokens, ThreadPool& pool) {
  // Indexed by ActFormat (kFloat, kQ8Block32, kQ8Block256); the two quantised formats take
  // scratch slots 0 and 2.
  constexpr int kFormats = 3;
  constexpr int kSlot[kFormats] = {0, 0, 2};
  static_assert(static_cast<int>(ActFormat::kQ8Block256) == kFormats - 1);
  bool wanted[kFormats] = {};
  bool block_sums = false;
  const size_t cols = targets[0].w->cols;
  for (const MatmulTarget& t : targets) {
    WAFER_CHECK(t.w->cols == cols, "matmul_shared over matrices of {} and {} columns", cols, t.w->cols);
    wanted[static_cast<int>(act_format(t.w->type))] = true;
    block_sums |= needs_block_sums(t.w->layout);
  }
  Activations acts[kFormats];
  for (int f = 0; f < kFormats; ++f)
    if (wanted[f])
      acts[f] = prepare_activations(k, static_cast<ActFormat>(f), x, num_tokens, cols, pool, block_sums, kSlot[f]);
  struct Piece {
    Matrix m;
    MatvecFn fn;
    const Activations* a;
    float* y;
    size_t r0, r1;
  };
  // Reused as in matvec_matmul, and reached through references for the same reason.
  thread_local std::vector<Piece> reused_pieces;
  thread_local std::vector<std::pair<size_t, size_t>> chunks;
  std::vector<Piece>& pieces = reused_pieces;
  pieces.clear();
  for (const MatmulTarget& t : targets) {
    const Matrix m = to_matrix(*t.w);
    const Activations* a = &acts[static_cast<int>(act_format(m.type))];
    chunks.clear();
    append_row_chunks(m.rows, static_cast<size_t>(pool.num_threads()), &chunks);
    for (const auto& [r0, r1] : chunks) pieces.push_back({m, matvec_fn(k, m), a, t.y, r0, r1});
  }
  parallel_chunks(pool, pieces.size(), 1, [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) pieces[p].fn(pieces[p].m, pieces[p].r0, pieces[p].r1, *pieces[p].a, num_tokens, pieces[p].y);
  });
}

// One worker's rows [r0, r1): per k block, decode and pack each 32-row panel, multiply it
// with every token on tiles, accumulating into y.
void amx_row_block(const KernelTable& k, const Matrix& m, const uint16_t* xh, const uint16_t* xl,
                   size_t k_pad, size_t num_tokens, bool w_lo, size_t r0, size_t r1, float* y) {
  const size_t kc = std::min(k_pad, w_lo || xl != nullptr ? kAmxKBlock / 2 : kAmxKBlock);
  Carver c(scratch(1, 3 * kAmxPanelRows * kc * 4 + 256));
  float* rows = c.take<float>(kAmxPanelRows * kc);
  uint16_t* ph = c.take<uint16_t>(kAmxPanelRows * kc);
  uint16_t* pl = w_lo ? c.take<uint16_t>(kAmxPanelRows * kc) : nullptr;
  for (size_t kb = 0; kb < k_pad; kb += kc) {
    const size_t k_len = std::min(kc, k_pad - kb);
    const size_t k_valid = std::min(k_len, m.cols - std::min(m.cols, kb));
    for (size_t p = r0; p < r1; p += kAmxPanelRows) {
      const size_t n = std::min(kAmxPanelRows, r1 - p);
      for (size_t i = 0; i < n; ++i) {
        float* row = rows + i * kc;
        if (k_valid > 0) decode_row(k, m, p + i, kb, k_valid, row);
        std::fill(row + k_valid, row + k_len, 0.0f);
      }
      k.gemm->pack_panel(rows, kc, n, k_len, ph, pl);
      AmxPanelArgs args;
      args.x_hi = xh + kb;
      args.x_lo = xl != nullptr ? xl + kb : nullptr;
      args.x_stride = k_pad;
      args.num_tokens = num_tokens;
      args.w_hi = ph;
      args.w_lo = pl;
      args.k_steps = k_len / kAmxKStep;
      args.num_rows = n;
      args.y = y + p;
      args.y_stride = m.rows;
      args.accumulate = kb > 0;
      k.gemm->panel_product(args);
    }
  }
}

void amx_matmul(const KernelTable& k, const Matrix& m, const float* x, size_t num_tokens,
                float* y, ThreadPool& pool, PanelParts parts) {
  const bool float_weights = parts.activation_lo;
  const bool w_lo = parts.weight_lo;
  const size_t k_pad = round_up(m.cols, kAmxKStep);
  const size_t t_pad = round_up(num_tokens, 2 * kAmxTileTokens);
  Carver c(scratch(0, 2 * round_up(t_pad * k_pad * 2, 64)));
  uint16_t* xh = c.take<uint16_t>(t_pad * k_pad);
  uint16_t* xl = float_weights ? c.take<uint16_t>(t_pad * k_pad) : nullptr;
  for_tokens(pool, t_pad, k_pad, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      uint16_t* h = xh + t * k_pad;
      uint16_t* l = xl != nullptr ? xl + t * k_pad : nullptr;
      if (t < num_tokens) {
        k.gemm->convert_activations(x + t * m.cols, m.cols, k_pad, h, l);
        continue;
      }
      std::memset(h, 0, k_pad * 2);
      if (l != nullptr) std::memset(l, 0, k_pad * 2);
    }
  });
  const size_t threads = static_cast<size_t>(pool.num_threads());
  const size_t per_thread = round_up((m.rows + threads - 1) / threads, kAmxPanelRows);
  const size_t block = std::min(kAmxRowBlock, std::max(kAmxPanelRows, per_thread));
  parallel_chunks(pool, m.rows, block, [&](size_t r0, size_t r1) {
    amx_row_block(k, m, xh, xl, k_pad, num_tokens, w_lo, r0, r1, y);
  });
}

// Exact f32 panels (F32/F16 weights on AVX-512, every type on AVX2): per k range, decode
// 32 rows, pack them k-major, multiply with every token; activations are read in place.
void f32_panel_matmul(const KernelTable& k, const Matrix& m, const float* x, size_t num_tokens, float* y,
                      ThreadPool& pool) {
  constexpr size_t kKBlock = 256;  // 32 rows x 256 f32 = 32 KiB per panel
  const size_t threads = static_cast<size_t>(pool.num_threads());
  const size_t per_thread = round_up((m.rows + threads - 1) / threads, kAmxPanelRows);
  const size_t block = std::min(kAmxRowBlock, std::max(kAmxPanelRows, per_thread));
  parallel_chunks(pool, m.rows, block, [&](size_t r0, size_t r1) {
    Carver c(scratch(1, 2 * kAmxPanelRows * kKBlock * sizeof(float) + 128));
    float* rows = c.take<float>(kAmxPanelRows * kKBlock);
    float* panel = c.take<float>(kAmxPanelRows * kKBlock);
    for (size_t kb = 0; kb < m.cols; kb += kKBlock) {
      const size_t k_valid = std::min(kKBlock, m.cols - kb);
      const size_t k_len = round_up(k_valid, 16);
      for (size_t p = r0; p < r1; p += kAmxPanelRows) {
        const size_t n = std::min(kAmxPanelRows, r1 - p);
        for (size_t i = 0; i < n; ++i) {
          float* row = rows + i * kKBlock;
          decode_row(k, m, p + i, kb, k_valid, row);
          std::fill(row + k_valid, row + k_len, 0.0f);
        }
        k.gemm->pack_panel_f32(rows, kKBlock, n, k_len, panel);
        F32PanelArgs args;
        args.x = x + kb;
        args.x_stride = m.cols;
        args.num_tokens = num_tokens;
        args.w = panel;
        args.k_len = k_valid;  // the padded tail of the panel is zero and x has no padding
        args.num_rows = n;
        args.y = y + p;
        args.y_stride = m.rows;
        args.accumulate = kb > 0;
        k.gemm->panel_product_f32(args);
      }
    }
  });
}

}  // namespace

F16Panels default_f16_panels() {
  static const F16Panels choice = [] {
    const char* env = std::getenv("WAFER_F16_PANELS");
    return env != nullptr && std::string_view(env) == "exact" ? F16Panels::kExact : F16Panels::kBf16;
  }();
  return choice;
}

PanelParts panel_parts(const KernelTable& table, DType type, F16Panels f16) {
  const bool f32_panels = table.gemm != nullptr && table.gemm->panel_product_f32 != nullptr;
  const bool bf16_panels = table.gemm != nullptr && table.gemm->panel_product != nullptr;
  if (f32_panels && !bf16_panels) return {.exact_f32 = true};  // AVX2: every type
  if (type == DType::kF16 && f32_panels && f16 == F16Panels::kBf16) return {};
  if (type == DType::kF32 || type == DType::kF16) {
    if (f32_panels) return {.exact_f32 = true};
    return {.weight_lo = true, .activation_lo = true};
  }
  // BF16 and quantised weights are exact in bf16. Quantised products round the activations
  // to it (the matrix-vector path quantises them to int8); BF16 ones keep a lo part.
  return {.activation_lo = act_format(type) == ActFormat::kFloat};
}

void matmul_with(const KernelTable& table, const WeightView& w, const float* x, size_t num_tokens,
                 float* y, ThreadPool& pool, MatmulKernel kernel, F16Panels f16) {
  if (w.rows == 0 || num_tokens == 0) return;
  WAFER_CHECK(weight_slot(w.type) >= 0, "matmul over unsupported weight type {}", dtype_name(w.type));
  if (table.isa == Isa::kReference) return wafer::reference::matmul(w, x, num_tokens, y, pool);
  const Matrix m = to_matrix(w);
  if (w.cols == 0) {
    std::fill(y, y + num_tokens * w.rows, 0.0f);
    return;
  }
  if (table.gemm != nullptr && num_tokens >= kAmxMinTokens && kernel == MatmulKernel::kAuto) {
    const PanelParts parts = panel_parts(table, w.type, f16);
    if (parts.exact_f32) return f32_panel_matmul(table, m, x, num_tokens, y, pool);
    return amx_matmul(table, m, x, num_tokens, y, pool, parts);
  }
  matvec_matmul(table, m, x, num_tokens, y, pool);
}

void matmul_shared_with(const KernelTable& table, std::span<const MatmulTarget> targets, const float* x,
                        size_t num_tokens, ThreadPool& pool, MatmulKernel kernel) {
  // The matrix-vector path, as matmul_with would take it for every target.
  const bool panels = table.gemm != nullptr && num_tokens >= kAmxMinTokens && kernel == MatmulKernel::kAuto;
  bool matvec_all = table.isa != Isa::kReference && num_tokens > 0 && !panels;
  for (const MatmulTarget& t : targets) {
    const WeightView& w = *t.w;
    matvec_all &= w.rows > 0 && w.cols > 0 && weight_slot(w.type) >= 0 && w.cols == targets[0].w->cols;
  }
  if (!matvec_all || targets.size() < 2) {
    for (const MatmulTarget& t : targets) matmul_with(table, *t.w, x, num_tokens, t.y, pool, kernel);
    return;
  }
  matvec_matmul_shared(table, targets, x, num_tokens, pool);
}

void get_row_with(const KernelTable& table, const WeightView& w, size_t row, float* out) {
  if (w.cols == 0) return;
  decode_row(table, to_matrix(w), row, 0, w.cols, out);
}

bool repack_weights_for(const KernelTable& table, WeightView* w, WeightStorage* storage,
                        ThreadPool* pool) {
  const WeightLayout layout = rows16_layout(w->type);
  const MatvecFn kernel = rows16_kernel(table, layout);
  if (w->layout != WeightLayout::kRows || table.isa == Isa::kReference) return false;
  const Matrix m = to_matrix(*w);
  const size_t bytes = w->rows * m.row_bytes;
  if (bytes == 0) return false;
  // Grouped by 16 rows where the level has a kernel for that layout, else the file's rows as
  // they are: either way in huge pages, which a decode step streams faster than the file's
  // 4 KiB pages (decisions 0010, 0014).
  const bool grouped = kernel != nullptr && rows16_shape_ok(w->type, w->rows, w->cols);
  *storage = LargeBuffer(bytes);  // page-aligned, in huge pages where it spans them
  uint8_t* out = storage->data();
  auto move_rows = [&](size_t r0, size_t r1) {
    if (grouped) pack_rows16(m, r0, r1, out);
    else std::memcpy(out + r0 * m.row_bytes, m.data + r0 * m.row_bytes, (r1 - r0) * m.row_bytes);
  };
  // Chunks of whole groups, or of ~2 MiB of rows.
  const size_t chunk = grouped ? 256 : std::max<size_t>(1, (size_t{1} << 21) / m.row_bytes);
  if (pool != nullptr) parallel_chunks(*pool, w->rows, chunk, move_rows);
  else move_rows(0, w->rows);
  w->data = out;
  if (grouped) w->layout = layout;
  return true;
}

}  // namespace wafer::kernels
