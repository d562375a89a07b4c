// NgramProposer: prompt lookup finds the latest earlier occurrence of the context's suffix;
// a prediction is followed while the output agrees with it and re-joined after an edit.
#include <gtest/gtest.h>

#include "speculative/ngram_proposer.h"

namespace wafer {
namespace {

TEST(NgramProposer, PromptLookupContinuesTheLatestEarlierOccurrence) {
  NgramProposer p({}, {});
  bool from_prediction = true;
  // ... 5 6 7 8 ... 5 6 7 9 ... 5 6 7 -> the latest earlier "5 6 7" is followed by 9.
  const std::vector<int32_t> ctx = {1, 5, 6, 7, 8, 2, 5, 6, 7, 9, 3, 4, 5, 6, 7};
  EXPECT_EQ(p.propose(ctx, 10, 3, &from_prediction), (std::vector<int32_t>{9, 3, 4}));
  EXPECT_FALSE(from_prediction);
  EXPECT_TRUE(p.propose(std::vector<int32_t>{1, 2, 3, 4}, 2, 3, &from_prediction).empty());
  EXPECT_TRUE(p.propose(ctx, 10, 0, &from_prediction).empty());
}

TEST(NgramProposer, FollowsAPredictionAndRejoinsItAfterAnEdit) {
  NgramProposer::Options options;
  options.lookup_context = false;
  const std::vector<int32_t> prediction = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  NgramProposer p(prediction, options);
  bool from_prediction = false;
  std::vector<int32_t> ctx = {1, 2, 3};  // the prompt; output starts at 3
  EXPECT_EQ(p.propose(ctx, 3, 4, &from_prediction), (std::vector<int32_t>{10, 11, 12, 13}));
  EXPECT_TRUE(from_prediction);
  ctx.insert(ctx.end(), {10, 11});
  EXPECT_EQ(p.propose(ctx, 3, 3, &from_prediction), (std::vector<int32_t>{12, 13, 14}));
  // The output departs (an edit), then rejoins at "15 16".
  ctx.insert(ctx.end(), {50, 51, 15, 16});
  EXPECT_EQ(p.propose(ctx, 3, 2, &from_prediction), (std::vector<int32_t>{17, 18}));
  ctx.insert(ctx.end(), {17, 18, 19});
  EXPECT_TRUE(p.propose(ctx, 3, 2, &from_prediction).empty());  // the prediction is used up
}

}  // namespace
}  // namespace wafer
