// The `wafer` command end to end, as scripts use it: JSON outputs, exit statuses, errors.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

const std::string kWafer = std::string(WAFER_BINARY_DIR) + "/wafer";
const std::string kShared = WAFER_SHARED_DIR;

struct Proc {
  int status;
  std::string out;
};

// Runs a shell command; stdout captured, stderr appended when merge_stderr.
Proc run(const std::string& cmd, bool merge_stderr = false) {
  std::string full = cmd + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(full.c_str(), "r");
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string tiny_model() {
  static const std::string path = std::string(WAFER_BINARY_DIR) + "/cli_test_tiny.gguf";
  static bool made = false;
  if (!made) {
    Proc r = run(kWafer + " synth --shape tiny --type q4_k_m --vocab " + kShared +
                "/vocab/ggml-vocab-qwen2.gguf -o " + path, true);
    EXPECT_EQ(r.status, 0) << r.out;
    made = true;
  }
  return path;
}

TEST(Cli, RunJsonHasIdsTextTimingsAndLogits) {
  const std::string model = kShared + "/golden/tiny-qwen2-q8_0.gguf";
  Proc r = run(kWafer + " run -m " + model + " --prompt-ids 1,2,3,4 --temp 0 -n 8 --logits --output json");
  ASSERT_EQ(r.status, 0);
  boost::json::value v = boost::json::parse(r.out);
  EXPECT_EQ(v.at("prompt_ids").as_array().size(), 4u);
  EXPECT_EQ(v.at("ids").as_array().size(), 8u);
  EXPECT_TRUE(v.at("text").is_string());
  EXPECT_TRUE(v.at("timings").is_object());
  EXPECT_EQ(v.at("logits_last").as_array().size(), 4118u);
}

TEST(Cli, SameSeedSameTextDifferentSeedDifferentText) {
  const std::string model = kShared + "/golden/tiny-qwen2-q8_0.gguf";
  auto gen = [&](int seed) {
    Proc r = run(kWafer + " run -m " + model + " -p 'def main():' --temp 1.0 --top-k 0 --top-p 1 --min-p 0 -n 24 --output json --seed " +
                std::to_string(seed));
    EXPECT_EQ(r.status, 0);
    return boost::json::serialize(boost::json::parse(r.out).at("ids"));
  };
  EXPECT_EQ(gen(7), gen(7));
  EXPECT_NE(gen(7), gen(8));
}

TEST(Cli, TokenizeWorksOnVocabOnlyFiles) {
  Proc r = run(kWafer + " tokenize -m " + kShared + "/vocab/ggml-vocab-qwen2.gguf 'Hello world'");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(boost::json::serialize(boost::json::parse(r.out)), "[9707,1879]");
  Proc special = run(kWafer + " tokenize -m " + kShared + "/vocab/ggml-vocab-qwen2.gguf --parse-special '<|im_start|>user'");
  ASSERT_EQ(special.status, 0);
  EXPECT_EQ(boost::json::parse(special.out).as_array().at(0).to_number<int64_t>(), 151644);
}

TEST(Cli, SynthesisedModelRunsAndDescribesItself) {
  const std::string model = tiny_model();
  Proc info = run(kWafer + " info -m " + model);
  ASSERT_EQ(info.status, 0);
  EXPECT_NE(info.out.find("qwen2"), std::string::npos);
  EXPECT_NE(info.out.find("q4_K"), std::string::npos);
  EXPECT_NE(info.out.find("chatml"), std::string::npos);
  Proc gen = run(kWafer + " run -m " + model + " -p 'int main' -n 5 --temp 0 --output json");
  ASSERT_EQ(gen.status, 0);
  EXPECT_LE(boost::json::parse(gen.out).at("ids").as_array().size(), 5u);
  Proc bench = run(kWafer + " bench -m " + model + " -p 16 -n 4 -r 1 -t 2 --output json");
  ASSERT_EQ(bench.status, 0);
  boost::json::value b = boost::json::parse(bench.out);
  for (const char* key : {"pp_tps", "tg_tps", "bandwidth_gbs", "weight_bytes", "tg_roofline_fraction"})
    EXPECT_GT(b.at(key).to_number<double>(), 0) << key;
}

// The agent benchmark against its own loopback server: every transport runs every turn;
// A reuses nothing, B and C reuse the conversation so far.
TEST(Cli, BenchAgentRunsEveryTransport) {
  const std::string model = kShared + "/golden/tiny-qwen2-q8_0.gguf";
  Proc p = run(kWafer + " bench agent -m " + model +
               " -t 2 --turns 2 --system-tokens 400 --tool-tokens 50 --gen-tokens 4 --output json");
  ASSERT_EQ(p.status, 0) << p.out;
  const boost::json::object r = boost::json::parse(p.out).as_object();
  for (const char* t : {"A", "B", "C"}) {
    const boost::json::array& turns = r.at(t).at("turns").as_array();
    ASSERT_EQ(turns.size(), 3u) << t;  // the warm-up and two turns
    for (size_t i = 1; i < turns.size(); ++i) {
      const boost::json::object& turn = turns[i].as_object();
      EXPECT_GT(turn.at("input_tokens").as_int64(), 300) << t;
      EXPECT_GT(turn.at("engine_ms").to_number<double>(), 0) << t;
      EXPECT_LE(turn.at("engine_ms").to_number<double>(), turn.at("turn_ms").to_number<double>()) << t;
      const int64_t cached = turn.at("cached_tokens").as_int64();
      if (std::string(t) == "A") EXPECT_EQ(cached, 0);
      else EXPECT_GT(cached, turns[i - 1].at("input_tokens").as_int64() - 16) << t;
    }
  }
  EXPECT_TRUE(r.at("ratios").as_object().contains("ttft_c_over_a"));
  Proc neither = run(kWafer + " bench agent --turns 2", true);
  EXPECT_EQ(neither.status, 1);
}

// The edit task with and without a prediction gives the same output, and the verify cost is
// measured after each context shorter than the task's, then after the task's own.
TEST(Cli, BenchSpecIsIdenticalAndCostsTheVerifyByContext) {
  const std::string model = tiny_model();  // the real Qwen2 vocabulary: a 3,599-token task
  Proc p = run(kWafer + " bench spec -m " + model + " -t 2 -n 24 -k 4 --output json");
  ASSERT_EQ(p.status, 0) << p.out;
  const boost::json::object r = boost::json::parse(p.out).as_object();
  EXPECT_TRUE(r.at("identical").as_bool());
  EXPECT_EQ(r.at("k").as_int64(), 4);
  const int64_t prompt = r.at("prompt_tokens").as_int64();
  const boost::json::array& by_context = r.at("verify_by_context").as_array();
  std::vector<int64_t> contexts;
  for (const boost::json::value& v : by_context) {
    const boost::json::object& c = v.as_object();
    contexts.push_back(c.at("context").as_int64());
    EXPECT_GT(c.at("decode_step_ms").to_number<double>(), 0);
    EXPECT_GT(c.at("verify_ms").to_number<double>(), 0);
    EXPECT_NEAR(c.at("ratio").to_number<double>(),
                c.at("verify_ms").to_number<double>() / c.at("decode_step_ms").to_number<double>(), 0.01);
  }
  std::vector<int64_t> expected;
  for (int64_t c : {512, 1024, 2048})
    if (c < prompt) expected.push_back(c);
  expected.push_back(prompt);
  EXPECT_EQ(contexts, expected);
  EXPECT_DOUBLE_EQ(by_context.back().at("verify_ms").to_number<double>(), r.at("verify_ms").to_number<double>());
}

// Enough tokens that the streams overlap even when other tests share the cores.
TEST(Cli, BenchBatchComparesStreamsWithOne) {
  const std::string model = kShared + "/golden/tiny-qwen2-q8_0.gguf";
  Proc p = run(kWafer + " bench batch -m " + model + " -t 2 --streams 3 -p 16 -n 400 --output json");
  ASSERT_EQ(p.status, 0) << p.out;
  const boost::json::object r = boost::json::parse(p.out).as_object();
  EXPECT_EQ(r.at("streams").as_int64(), 3);
  for (const char* key : {"lone_tps", "aggregate_tps", "aggregate_over_lone", "inter_token_over_lone", "window_ms"})
    EXPECT_GT(r.at(key).to_number<double>(), 0) << key;
}

TEST(Cli, UserErrorsExitOneWithAMessage) {
  Proc missing = run(kWafer + " run -m /nonexistent.gguf -p hi", true);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("/nonexistent.gguf"), std::string::npos);
  const std::string junk = std::string(WAFER_BINARY_DIR) + "/junk.gguf";
  std::ofstream(junk) << "this is not a gguf file at all";
  Proc bad = run(kWafer + " info -m " + junk, true);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("wafer:"), std::string::npos);
  Proc vocab_only = run(kWafer + " run -m " + kShared + "/vocab/ggml-vocab-qwen2.gguf -p hi", true);
  EXPECT_EQ(vocab_only.status, 1);
  // A draft model must share the tokenizer (the synthesised tiny model has Qwen2.5's).
  Proc bad_draft = run(kWafer + " serve -m " + kShared + "/golden/tiny-qwen2-q8_0.gguf --port 0 --no-store --draft " +
                       tiny_model(), true);
  EXPECT_EQ(bad_draft.status, 1);
  EXPECT_NE(bad_draft.out.find("tokenizer"), std::string::npos) << bad_draft.out;
  Proc bad_flag = run(kWafer + " run --no-such-flag", true);
  EXPECT_EQ(bad_flag.status, 1);
  Proc bad_ids = run(kWafer + " run -m " + kShared + "/golden/tiny-qwen2-f32.gguf --prompt-ids 1,x", true);
  EXPECT_EQ(bad_ids.status, 1);
  EXPECT_NE(bad_ids.out.find("'x'"), std::string::npos);
  Proc help = run(kWafer + " run --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--prompt-ids"), std::string::npos);
}

// `wafer serve` as a user runs it: the first line says where it listens; SIGTERM lets a
// running stream finish, then the process exits 0.
TEST(Cli, ServeAnnouncesItsUrlAndDrainsOnSigterm) {
  const std::string dir = WAFER_BINARY_DIR;
  const std::string script =
      "log=" + dir + "/serve_test.log; out=" + dir + "/serve_test.sse; rm -f $log $out; " + kWafer +
      " serve -m " + tiny_model() + " --port 0 --no-store -t 1 >$log 2>&1 & pid=$!; "
      "for i in $(seq 300); do url=$(grep -o 'http://127.0.0.1:[0-9]*' $log | head -1); "
      "[ -n \"$url\" ] && break; sleep 0.1; done; "
      "echo \"first=$(head -1 $log)\"; "
      "curl -sN $url/v1/responses -H 'content-type: application/json' "
      "-d '{\"model\":\"m\",\"input\":\"hi\",\"stream\":true,\"max_output_tokens\":300}' >$out & cpid=$!; "
      "for i in $(seq 100); do grep -q output_text.delta $out 2>/dev/null && break; sleep 0.05; done; "
      "kill -TERM $pid; wait $cpid; wait $pid; echo \"exit=$?\"; "
      "grep -c 'event: response.completed\\|event: response.incomplete' $out";
  Proc r = run("sh -c \"" + [&] {
    std::string escaped;
    for (char c : script) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') escaped += '\\';
      escaped += c;
    }
    return escaped;
  }() + "\"", true);
  EXPECT_NE(r.out.find("first=wafer: listening on http://127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1\n"), std::string::npos) << "the stream in flight ends with its terminal event: " << r.out;
}

}  // namespace
