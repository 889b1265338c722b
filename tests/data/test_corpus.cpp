// Corpus loaders against the real data cache (scripts/setup.sh fills it) plus the small text
// and split helpers they are built from. Each corpus is loaded once per test binary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>

#include "train/data/corpus.h"
#include "train/data/paths.h"
#include "train/data/sotu.h"
#include "train/data/spam.h"
#include "train/data/split.h"
#include "train/data/text.h"
#include "train/data/wordnet.h"

namespace rt3::data {
namespace {

const LmCorpus& sotu() {
  static const LmCorpus c = load_sotu(data_dir());
  return c;
}
const ClassCorpus& spam() {
  static const ClassCorpus c = load_spam(data_dir());
  return c;
}
const ClassCorpus& wordnet() {
  static const ClassCorpus c = load_wordnet();
  return c;
}

template <typename T>
std::size_t total(const T& c) {
  return c.train.size() + c.valid.size() + c.test.size();
}

// Every text appears in at most one split.
void expect_disjoint_texts(const ClassCorpus& c) {
  std::set<std::string> train, valid;
  for (const auto& e : c.train) train.insert(e.text);
  for (const auto& e : c.valid) {
    EXPECT_EQ(train.count(e.text), 0u) << e.id;
    valid.insert(e.text);
  }
  for (const auto& e : c.test) {
    EXPECT_EQ(train.count(e.text), 0u) << e.id;
    EXPECT_EQ(valid.count(e.text), 0u) << e.id;
  }
}

bool same_examples(const std::vector<LabeledExample>& a, const std::vector<LabeledExample>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].text != b[i].text || a[i].label != b[i].label) return false;
  return true;
}

// ---- helpers --------------------------------------------------------------------------------

TEST(CorpusText, NormalisesNewlinesAndTrailingWhitespace) {
  EXPECT_EQ(strip_trailing_whitespace(unify_newlines("\r\n a  \r\nb\t\rc \n\n")), " a\nb\nc");
  EXPECT_EQ(collapse_whitespace("  a \t\n b  "), "a b");
  EXPECT_EQ(count_words(" one two\nthree "), 3u);
}

TEST(CorpusText, StripsHtmlTagsButKeepsAutolinks) {
  EXPECT_EQ(collapse_whitespace(strip_html_tags("<p>Hi<br/>there</p><!-- x < y -->!")),
            "Hi there !");
  EXPECT_EQ(strip_html_tags("a < b"), "a < b");
  EXPECT_EQ(strip_html_tags("see <http://x.com/a> or <bob@x.com>"),
            "see <http://x.com/a> or <bob@x.com>");
  EXPECT_EQ(strip_html_tags("unterminated <b"), "unterminated <b");
}

TEST(CorpusText, SanitizeUtf8KeepsValidAndMapsInvalidAsCp1252) {
  EXPECT_EQ(sanitize_utf8("caf\xC3\xA9"), "caf\xC3\xA9");       // valid UTF-8 untouched
  EXPECT_EQ(sanitize_utf8("caf\xE9"), "caf\xC3\xA9");           // Latin-1 e-acute
  EXPECT_EQ(sanitize_utf8("\x93q\x94"), "\xE2\x80\x9Cq\xE2\x80\x9D");  // cp1252 curly quotes
  EXPECT_EQ(sanitize_utf8(std::string("a\0b", 3)), "a b");      // control char
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xC3\xAD\xC2\xA0\xE2\x82\xAC");  // no surrogates
}

TEST(CorpusText, DecodesQuotedPrintable) {
  EXPECT_EQ(decode_quoted_printable("a=3Db=\nc=20d=  \ne =ZZ end="), "a=bc de =ZZ end=");
}

TEST(CorpusSplit, CountsRoundAndNeverLeaveASplitEmpty) {
  const SplitCounts c = split_counts(233, kLmSplit);
  EXPECT_EQ(c.valid, 12u);
  EXPECT_EQ(c.test, 12u);
  EXPECT_EQ(c.train, 209u);
  const SplitCounts small = split_counts(3, kLmSplit);
  EXPECT_EQ(small.train + small.valid + small.test, 3u);
  EXPECT_EQ(small.valid, 1u);
  EXPECT_THROW(split_counts(10, SplitSpec{0.5, 0.5, 0.5}), std::runtime_error);
}

TEST(CorpusSplit, IndependentOfInputOrderAndSeedMatters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("doc" + std::to_string(i));
  std::vector<std::string> reversed(ids.rbegin(), ids.rend());
  const auto a = assign_splits(ids, kClassSplit);
  const auto b = assign_splits(reversed, kClassSplit);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(a[i], b[ids.size() - 1 - i]);
  SplitSpec other = kClassSplit;
  other.seed += 1;
  EXPECT_NE(a, assign_splits(ids, other));
}

TEST(CorpusSplit, PinnedKeysSoSplitsNeverChangeSilently) {
  // If this changes, every published split changes: update docs/data.md on purpose.
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(split_key("1790_george_washington_n", kLmSplit.seed), 0xc11369fd1ddc8d97ULL);
}

// ---- paths / errors -------------------------------------------------------------------------

TEST(CorpusPaths, MissingDataDirSaysRunSetup) {
  const std::string missing = "/nonexistent/rt3-data";
  for (auto load : {+[](const std::string& d) { (void)load_sotu(d); },
                    +[](const std::string& d) { (void)load_spam(d); },
                    +[](const std::string& d) { (void)load_wordnet(kClassSplit, 10, d + "/x"); }}) {
    try {
      load(missing);
      FAIL() << "expected an error for " << missing;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
  }
}

TEST(CorpusPaths, EnvOverridesDefault) {
  const char* old = std::getenv("RT3_DATA_DIR");
  const std::string saved = old ? old : "";
  setenv("RT3_DATA_DIR", "/tmp/rt3-elsewhere", 1);
  EXPECT_EQ(data_dir(), "/tmp/rt3-elsewhere");
  setenv("RT3_DATA_DIR", "", 1);
  EXPECT_EQ(data_dir(), RT3_DEFAULT_DATA_DIR);
  if (old) setenv("RT3_DATA_DIR", saved.c_str(), 1); else unsetenv("RT3_DATA_DIR");
}

// ---- sotu ------------------------------------------------------------------------------------

TEST(CorpusSotu, AllSpeechesSplitBySpeech) {
  const LmCorpus& c = sotu();
  EXPECT_EQ(total(c), 233u);
  EXPECT_FALSE(c.train.empty());
  EXPECT_FALSE(c.valid.empty());
  EXPECT_FALSE(c.test.empty());
  std::set<std::string> ids;
  for (const auto* split : {&c.train, &c.valid, &c.test})
    for (const auto& d : *split) {
      EXPECT_TRUE(ids.insert(d.id).second) << d.id << " is in two splits";
      EXPECT_FALSE(d.text.empty());
      EXPECT_EQ(d.text.find('\r'), std::string::npos);
      EXPECT_NE(d.text.back(), ' ');
    }
  const CorpusStats st = corpus_stats(c);
  std::size_t words = 0;
  for (const auto& s : st.splits) words += s.words;
  EXPECT_GT(words, 1'700'000u);  // the package states 1.79M words
  EXPECT_LT(words, 1'900'000u);
}

TEST(CorpusSotu, Deterministic) {
  const LmCorpus again = load_sotu(data_dir());
  auto ids = [](const std::vector<Document>& v) {
    std::vector<std::string> out;
    for (const auto& d : v) out.push_back(d.id);
    return out;
  };
  EXPECT_EQ(ids(again.train), ids(sotu().train));
  EXPECT_EQ(ids(again.valid), ids(sotu().valid));
  EXPECT_EQ(ids(again.test), ids(sotu().test));
  // Pinned (listed in docs/data.md): a change here means every published perplexity moved.
  EXPECT_EQ(ids(sotu().test),
            (std::vector<std::string>{
                "1804_thomas_jefferson_dr", "1845_james_polk_d", "1869_ulysses_s_grant_r",
                "1878_rutherford_b_hayes_r", "1886_grover_cleveland_d",
                "1940_franklin_d_roosevelt_d", "1963_john_f_kennedy_d", "1988_ronald_reagan_r",
                "1996_william_j_clinton_d", "1998_william_j_clinton_d", "2012_barack_obama_d",
                "2016_barack_obama_d"}));
}

// ---- spam ------------------------------------------------------------------------------------

TEST(CorpusSpam, ReadsEveryEmailAndKeepsTheSpamRatio) {
  const ClassCorpus& c = spam();
  EXPECT_EQ(c.source.records_read, 6046u);
  EXPECT_EQ(total(c) + c.source.empty_dropped + c.source.duplicates_dropped +
                c.source.conflicting_dropped,
            6046u);
  ASSERT_EQ(c.label_names, (std::vector<std::string>{"ham", "spam"}));
  auto spam_share = [](const std::vector<LabeledExample>& v) {
    std::size_t n = 0;
    for (const auto& e : v) n += e.label == 1;
    return 100.0 * static_cast<double>(n) / static_cast<double>(v.size());
  };
  std::vector<LabeledExample> all(c.train);
  all.insert(all.end(), c.valid.begin(), c.valid.end());
  all.insert(all.end(), c.test.begin(), c.test.end());
  const double overall = spam_share(all);
  EXPECT_NEAR(overall, 31.0, 1.5);
  EXPECT_NEAR(spam_share(c.train), overall, 2.0);
  EXPECT_NEAR(spam_share(c.valid), overall, 2.0);
  EXPECT_NEAR(spam_share(c.test), overall, 2.0);
}

TEST(CorpusSpam, HeadersStrippedSubjectKept) {
  for (const auto* split : {&spam().train, &spam().valid, &spam().test})
    for (const auto& e : *split) {
      // Not "From " (mbox separator): real subjects such as "From salon.com - ..." start so.
      for (const char* h : {"Received:", "From:", "Return-Path:", "Delivered-To:"})
        EXPECT_NE(e.text.rfind(h, 0), 0u) << e.id << " starts with header " << h;
    }
  const std::string raw =
      "From a@b  Thu Aug 22 2002\r\nReceived: from x\r\n\tby y\r\nSubject: Cheap\r\n  meds\r\n"
      "From: a@b\r\n\r\n<html><body>Buy <b>now</b>!</body></html>\r\n";
  EXPECT_EQ(email_to_text(raw), "Cheap meds Buy now !");
  const std::string qp =
      "Subject: x\nContent-Transfer-Encoding: Quoted-Printable\n\n"
      "<p class=3D\"a\">caf=E9 =\nok</p>";
  EXPECT_EQ(email_to_text(qp), "x caf\xC3\xA9 ok");
}

TEST(CorpusSpam, NoTextInTwoSplitsAndDeterministic) {
  expect_disjoint_texts(spam());
  EXPECT_GT(spam().source.duplicates_dropped, 0u);  // the corpus has known duplicates
  const ClassCorpus again = load_spam(data_dir());
  EXPECT_TRUE(same_examples(again.train, spam().train));
  EXPECT_TRUE(same_examples(again.valid, spam().valid));
  EXPECT_TRUE(same_examples(again.test, spam().test));
}

// ---- wordnet ---------------------------------------------------------------------------------

TEST(CorpusWordnet, TenClassesInDescendingOrder) {
  const ClassCorpus& c = wordnet();
  ASSERT_EQ(c.label_names.size(), 10u);
  EXPECT_EQ(c.label_names.front(), "noun.artifact");
  std::set<std::string> names(c.label_names.begin(), c.label_names.end());
  EXPECT_EQ(names.size(), 10u);
  for (const auto& n : c.label_names) EXPECT_EQ(n.rfind("noun.", 0), 0u) << n;

  const CorpusStats st = corpus_stats(c);  // also checks every label is in range
  std::vector<std::size_t> per_class(10, 0);
  for (const auto& s : st.splits)
    for (std::size_t k = 0; k < 10; ++k) per_class[k] += s.per_class[k];
  for (std::size_t k = 1; k < 10; ++k) EXPECT_GE(per_class[k - 1], per_class[k]) << k;
  // Stratified: each split holds each class in proportion (within rounding).
  for (std::size_t k = 0; k < 10; ++k) {
    const double want = 0.1 * static_cast<double>(per_class[k]);
    EXPECT_NEAR(static_cast<double>(st.splits[1].per_class[k]), want, 1.0);
    EXPECT_NEAR(static_cast<double>(st.splits[2].per_class[k]), want, 1.0);
  }
  for (const auto* split : {&c.train, &c.valid, &c.test})
    for (const auto& e : *split) {
      ASSERT_GE(e.label, 0);
      ASSERT_LT(e.label, 10);
      ASSERT_FALSE(e.text.empty());
      ASSERT_EQ(e.text.find('|'), std::string::npos) << e.id;
    }
}

TEST(CorpusWordnet, NoGlossInTwoSplitsAndDeterministic) {
  expect_disjoint_texts(wordnet());
  const ClassCorpus again = load_wordnet();
  EXPECT_TRUE(same_examples(again.train, wordnet().train));
  EXPECT_TRUE(same_examples(again.test, wordnet().test));
  EXPECT_THROW(load_wordnet(kClassSplit, 1), std::runtime_error);
  EXPECT_THROW(load_wordnet(kClassSplit, 27), std::runtime_error);
}

TEST(CorpusDescribe, PrintsSplitsAndClasses) {
  const std::string s = describe(corpus_stats(spam()));
  EXPECT_NE(s.find("spam"), std::string::npos);
  EXPECT_NE(s.find("valid"), std::string::npos);
  EXPECT_NE(s.find("ham"), std::string::npos);
}

}  // namespace
}  // namespace rt3::data
