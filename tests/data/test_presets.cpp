// The shipped corpora as presets: `rt3 train --task sotu|spam|wordnet` reads them through the
// same entry point as a user's files (data/task_data.h), and they must still give exactly the
// splits they gave before the generic tasks existed. The digests below were computed by the
// loaders of commit f2ccb0d (before this change) over every split's (id, label, text) in split
// order; if one changes, every published number of that corpus moved.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "train/data/task_data.h"
#include "train/run_config.h"

namespace rt3::data {
namespace {

struct Digest {
  std::size_t items;
  std::uint64_t fnv;
};

std::uint64_t fnv(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Digest digest(const std::vector<Document>& docs) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& d : docs) h = fnv(h, d.id + "\x1f" + d.text + "\x1e");
  return {docs.size(), h};
}

Digest digest(const std::vector<LabeledExample>& v) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& e : v) h = fnv(h, e.id + "\x1f" + std::to_string(e.label) + "\x1f" + e.text + "\x1e");
  return {v.size(), h};
}

void expect_digest(const Digest& got, const Digest& want, const char* what) {
  EXPECT_EQ(got.items, want.items) << what;
  EXPECT_EQ(got.fnv, want.fnv) << what << ": 0x" << std::hex << got.fnv;
}

TEST(Presets, TasksReadTheirCorpusThroughTheGenericEntryPoint) {
  EXPECT_EQ(train::default_config(train::TaskKind::kSotu).data.preset, "sotu");
  EXPECT_EQ(train::default_config(train::TaskKind::kSpam).data.preset, "spam");
  EXPECT_EQ(train::default_config(train::TaskKind::kWordnet).data.preset, "wordnet");
  EXPECT_TRUE(train::default_config(train::TaskKind::kClassify).data.preset.empty());
}

TEST(Presets, SotuSplitsAreUnchanged) {
  const LmCorpus c = load_lm_corpus(preset_spec("sotu"));
  expect_digest(digest(c.train), {209, 0x47fa622ba35c1fbbULL}, "sotu train");
  expect_digest(digest(c.valid), {12, 0x6f47c63ff00435f8ULL}, "sotu valid");
  expect_digest(digest(c.test), {12, 0xd151bb73e4523b66ULL}, "sotu test");
}

TEST(Presets, SpamSplitsAreUnchanged) {
  const ClassCorpus c = load_class_corpus(preset_spec("spam"));
  EXPECT_EQ(c.label_names, (std::vector<std::string>{"ham", "spam"}));
  expect_digest(digest(c.train), {4743, 0x1a39c422709fbd0cULL}, "spam train");
  expect_digest(digest(c.valid), {593, 0xd972c7a4fcb0d66cULL}, "spam valid");
  expect_digest(digest(c.test), {593, 0xa072368f4cd92eccULL}, "spam test");
}

TEST(Presets, WordnetSplitsAreUnchanged) {
  const ClassCorpus c = load_class_corpus(preset_spec("wordnet"));
  ASSERT_EQ(c.label_names.size(), 10u);
  EXPECT_EQ(c.label_names[0], "noun.artifact");  // labels keep the preset's order (by count)
  expect_digest(digest(c.train), {50132, 0x94f2e1ba8b6929a8ULL}, "wordnet train");
  expect_digest(digest(c.valid), {6267, 0x0aef0c88ae65aaa2ULL}, "wordnet valid");
  expect_digest(digest(c.test), {6267, 0x486df38125395d44ULL}, "wordnet test");
}

}  // namespace
}  // namespace rt3::data
