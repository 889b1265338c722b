// The user's own data (docs/data.md "Bring your own data"): CSV/TSV/JSONL as Hugging Face
// `datasets` writes them, label ids, carved splits, LM documents, and one test per kind of bad
// data, each of which must name the file and the line. Files are written by the tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "train/data/class_files.h"
#include "train/data/csv.h"
#include "train/data/data_spec.h"
#include "train/data/documents.h"
#include "train/data/label_order.h"
#include "train/data/labeled_rows.h"
#include "train/data/user_text.h"

namespace rt3::data {
namespace {
namespace fs = std::filesystem;

class DataFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rt3_data_files_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  // The message of the error `f` throws; fails the test when it throws none.
  template <typename F>
  std::string error_of(F f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
      return what;
    }
    ADD_FAILURE() << "no error thrown";
    return "";
  }
  fs::path dir_;
};

// Expects "<path>:<line>: ..." containing `what`.
void expect_at(const std::string& msg, const std::string& path, int line, const std::string& what) {
  EXPECT_NE(msg.find(path + ":" + std::to_string(line) + ": "), std::string::npos) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

// A file as pandas' to_csv (QUOTE_MINIMAL, index=False) writes it: quotes only where needed.
const char* kHfCsv =
    "text,label\n"
    "plain text,pos\n"
    "\"with, comma\",neg\n"
    "\"she said \"\"hi\"\"\",pos\n"
    "\"two\nlines\",neg\n"
    "last,pos\n";

TEST_F(DataFiles, ReadsCsvAsHuggingFaceWritesIt) {
  const auto rows = read_labeled_rows(write("d.csv", kHfCsv), {});
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].text, "with, comma");
  EXPECT_EQ(rows[2].text, "she said \"hi\"");
  EXPECT_EQ(rows[3].text, "two\nlines");
  EXPECT_EQ(rows[3].label, "neg");
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[4].line, 7u);  // the quoted line break counts
}

TEST_F(DataFiles, CsvParserHandlesCrlfEmptyFieldsAndBlankLines) {
  const auto recs = parse_csv("a,b,c\r\n1,,3\r\n\r\n\"x\",\"\",\r\n", ',', "f.csv");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"1", "", "3"}));
  EXPECT_EQ(recs[2].fields, (std::vector<std::string>{"x", "", ""}));
  EXPECT_EQ(recs[2].line, 4u);
}

TEST_F(DataFiles, ReadsTsvJsonlAndPairColumns) {
  const auto tsv = read_labeled_rows(write("d.tsv", "premise\thypothesis\tlabel\nA cat.\tAn animal.\t0\n\"x\ty\"\tz\t1\n"),
                                     {"premise", "hypothesis", "label"});
  ASSERT_EQ(tsv.size(), 2u);
  EXPECT_EQ(tsv[0].text_pair, "An animal.");
  EXPECT_EQ(tsv[1].text, "x\ty");
  // to_json(lines=True): force_ascii escapes, escaped slashes, integer labels, extra keys.
  const auto jl = read_labeled_rows(
      write("d.jsonl", "{\"sentence\":\"caf\\u00e9 \\/ ok\",\"label\":1,\"idx\":0}\n\n{\"sentence\":\"b\",\"label\":-2,\"idx\":1}\n"),
      {"sentence", "", "label"});
  ASSERT_EQ(jl.size(), 2u);
  EXPECT_EQ(jl[0].text, "caf\xC3\xA9 / ok");
  EXPECT_EQ(jl[0].label, "1");
  EXPECT_EQ(jl[1].label, "-2");
  EXPECT_EQ(jl[1].line, 3u);
}

TEST_F(DataFiles, LabelOrderIsNumericForIntegersElseByteOrder) {
  EXPECT_EQ(label_order({"10", "2", "-1", "2"}), (std::vector<std::string>{"-1", "2", "10"}));
  EXPECT_EQ(label_order({"pos", "neg", "Neutral"}), (std::vector<std::string>{"Neutral", "neg", "pos"}));
  // "01" is not written as an integer would be: all labels are strings then.
  EXPECT_EQ(label_order({"10", "2", "01"}), (std::vector<std::string>{"01", "10", "2"}));
}

// n rows per label of two labels, in this order.
std::string rows_csv(int n, bool reversed = false) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    lines.push_back("text number " + std::to_string(i) + ",a");
    lines.push_back("other text " + std::to_string(i) + ",b");
  }
  if (reversed) std::reverse(lines.begin(), lines.end());
  std::string s = "text,label\n";
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::set<std::string> texts(const std::vector<LabeledExample>& v) {
  std::set<std::string> s;
  for (const auto& e : v) s.insert(e.text);
  return s;
}

TEST_F(DataFiles, CarvesMissingSplitsStratifiedAndIndependentOfRowOrder) {
  DataSpec spec;
  spec.train = write("train.csv", rows_csv(50));
  const ClassCorpus c = load_class_files(spec);
  EXPECT_EQ(c.label_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.train.size(), 80u);
  EXPECT_EQ(c.valid.size(), 10u);
  EXPECT_EQ(c.test.size(), 10u);
  int valid_a = 0;
  for (const auto& e : c.valid) valid_a += e.label == 0;
  EXPECT_EQ(valid_a, 5);  // stratified: half of each split is class a
  // The same rows in the opposite order land in the same splits.
  DataSpec rev;
  rev.train = write("rev.csv", rows_csv(50, true));
  const ClassCorpus r = load_class_files(rev);
  EXPECT_EQ(texts(r.valid), texts(c.valid));
  EXPECT_EQ(texts(r.test), texts(c.test));
  // A given validation file: only test is carved, 10 % of train.
  DataSpec given = spec;
  given.valid = write("valid.csv", "text,label\nsomething,b\nelse,a\n");
  const ClassCorpus g = load_class_files(given);
  EXPECT_EQ(g.valid.size(), 2u);
  EXPECT_EQ(g.test.size(), 10u);
  EXPECT_EQ(g.train.size(), 90u);
  EXPECT_EQ(g.valid[0].id, "valid.csv:2");
}

TEST_F(DataFiles, ResolvesADataFolder) {
  write("ds/train.jsonl", "{}\n");
  write("ds/validation.jsonl", "{}\n");
  const DataSpec d = resolve_class_data((dir_ / "ds").string(), {});
  EXPECT_EQ(fs::path(d.train).filename(), "train.jsonl");
  EXPECT_EQ(fs::path(d.valid).filename(), "validation.jsonl");
  EXPECT_TRUE(d.test.empty());
  write("ds/train.csv", "text,label\n");
  EXPECT_NE(error_of([&] { resolve_class_data((dir_ / "ds").string(), {}); }).find("holds both"), std::string::npos);
  fs::create_directories(dir_ / "empty");
  EXPECT_NE(error_of([&] { resolve_class_data((dir_ / "empty").string(), {}); }).find("no train.csv"), std::string::npos);
  DataSpec spec = d;
  spec.text_pair_column = "b";
  EXPECT_EQ(to_json(data_spec_from_json(to_json(spec))), to_json(spec));
}

// ---- bad data: one test per kind, each naming file and line ---------------------------------

TEST_F(DataFiles, UnreadableOrMissingFile) {
  const std::string missing = (dir_ / "nope.csv").string();
  EXPECT_NE(error_of([&] { read_labeled_rows(missing, {}); }).find(missing), std::string::npos);
  fs::create_directories(dir_ / "adir.csv");
  EXPECT_NE(error_of([&] { read_labeled_rows((dir_ / "adir.csv").string(), {}); }).find("adir.csv"), std::string::npos);
  const std::string odd = write("d.parquet", "x");
  EXPECT_NE(error_of([&] { read_labeled_rows(odd, {}); }).find("unknown data format"), std::string::npos);
}

TEST_F(DataFiles, NotUtf8) {
  const std::string p = write("d.csv", "text,label\nok,a\ncaf\xE9,b\n");
  expect_at(error_of([&] { read_labeled_rows(p, {}); }), p, 3, "not valid UTF-8 (byte 0xE9)");
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);  // a surrogate
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF"), 1u);     // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98\x80 ok"), std::string_view::npos);
}

TEST_F(DataFiles, BrokenCsvQuoting) {
  const std::string open = write("open.csv", "text,label\nfine,a\n\"never closed,b\nmore,a\n");
  expect_at(error_of([&] { read_labeled_rows(open, {}); }), open, 3, "never closed");
  const std::string after = write("after.csv", "text,label\n\"quoted\"tail,a\n");
  expect_at(error_of([&] { read_labeled_rows(after, {}); }), after, 2, "after the closing quote");
  const std::string bare = write("bare.csv", "text,label\nok,a\nsay \"hi\",b\n");
  expect_at(error_of([&] { read_labeled_rows(bare, {}); }), bare, 3, "quote inside an unquoted field");
  const std::string fields = write("fields.csv", "text,label\nok,a\na,b,c\n");
  expect_at(error_of([&] { read_labeled_rows(fields, {}); }), fields, 3, "3 fields but the header has 2");
}

TEST_F(DataFiles, MissingColumnOrKey) {
  const std::string csv = write("d.csv", "sentence,label\nok,a\n");
  const std::string msg = error_of([&] { read_labeled_rows(csv, {}); });
  expect_at(msg, csv, 1, "no column 'text'");
  EXPECT_NE(msg.find("'sentence'"), std::string::npos) << msg;  // says what there is
  const std::string jl = write("d.jsonl", "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\"}\n");
  expect_at(error_of([&] { read_labeled_rows(jl, {}); }), jl, 2, "no key 'label'");
}

TEST_F(DataFiles, EmptyTextOrLabel) {
  const std::string csv = write("d.csv", "text,label\nok,a\n  ,b\n");
  expect_at(error_of([&] { read_labeled_rows(csv, {}); }), csv, 3, "empty text in column 'text'");
  const std::string lab = write("l.csv", "text,label\nok,\n");
  expect_at(error_of([&] { read_labeled_rows(lab, {}); }), lab, 2, "empty label");
  const std::string pair = write("p.jsonl", "{\"a\":\"x\",\"b\":\"\",\"label\":0}\n");
  expect_at(error_of([&] { read_labeled_rows(pair, {"a", "b", "label"}); }), pair, 1, "empty text in column 'b'");
}

TEST_F(DataFiles, JsonLineThatIsNotAnObject) {
  const std::string arr = write("a.jsonl", "{\"text\":\"a\",\"label\":1}\n[1, 2]\n");
  expect_at(error_of([&] { read_labeled_rows(arr, {}); }), arr, 2, "a JSON array, not an object");
  const std::string bad = write("b.jsonl", "{\"text\":\"a\",\"label\":1}\n{\"text\": \n");
  expect_at(error_of([&] { read_labeled_rows(bad, {}); }), bad, 2, "not valid JSON");
  const std::string type = write("c.jsonl", "{\"text\":3,\"label\":1}\n");
  expect_at(error_of([&] { read_labeled_rows(type, {}); }), type, 1, "must be a JSON string");
  const std::string flt = write("f.jsonl", "{\"text\":\"x\",\"label\":0.5}\n");
  expect_at(error_of([&] { read_labeled_rows(flt, {}); }), flt, 1, "a string or an integer");
}

TEST_F(DataFiles, LabelInValidOrTestNeverSeenInTrain) {
  DataSpec spec;
  spec.train = write("train.csv", rows_csv(5));
  spec.test = write("test.csv", "text,label\nx,a\ny,c\n");
  expect_at(error_of([&] { load_class_files(spec); }), spec.test, 3, "label 'c' never occurs in the training file");
}

TEST_F(DataFiles, SingleClassAndTooFewRows) {
  DataSpec spec;
  spec.train = write("one.csv", "text,label\na,x\nb,x\nc,x\n");
  EXPECT_NE(error_of([&] { load_class_files(spec); }).find("at least two classes"), std::string::npos);
  spec.train = write("two.csv", "text,label\na,x\nb,y\n");
  EXPECT_NE(error_of([&] { load_class_files(spec); }).find("too few rows to carve"), std::string::npos);
  spec.train = write("none.csv", "text,label\n");
  const std::string msg = error_of([&] { load_class_files(spec); });
  EXPECT_NE(msg.find(spec.train + ": no data rows"), std::string::npos) << msg;
}

// ---- language-modelling documents ------------------------------------------------------------

TEST_F(DataFiles, LmDocumentsFromAFolderAndFromBlankLineSeparatedFile) {
  write("docs/b.txt", "second doc\r\nline two  \n\n");
  write("docs/a.txt", "\xEF\xBB\xBF" "first doc\n");
  write("docs/skip.md", "not a document");
  const DocumentSet folder = read_documents((dir_ / "docs").string());
  ASSERT_EQ(folder.docs.size(), 2u);
  EXPECT_EQ(folder.docs[0].id, "a");
  EXPECT_EQ(folder.docs[0].text, "first doc");  // BOM dropped
  EXPECT_EQ(folder.docs[1].text, "second doc\nline two");
  const std::string f = write("corpus.txt", "one a\none b\n\n \n\ntwo\n\nthree\n");
  const DocumentSet file = read_documents(f);
  ASSERT_EQ(file.docs.size(), 3u);
  EXPECT_EQ(file.docs[0].text, "one a\none b");
  EXPECT_EQ(file.docs[1].id, "corpus.txt:6");
  EXPECT_EQ(file.keys[2], "three");
  DataSpec spec;
  spec.train = f;
  const LmCorpus c = load_lm_files(spec);
  EXPECT_EQ(c.train.size() + c.valid.size() + c.test.size(), 3u);
  EXPECT_EQ(c.valid.size(), 1u);
}

TEST_F(DataFiles, BadLmText) {
  const std::string bad = write("bad.txt", "fine\nalso fine\n\xFF\n");
  expect_at(error_of([&] { read_documents(bad); }), bad, 3, "not valid UTF-8");
  write("empty/a.txt", " \n\n");
  EXPECT_NE(error_of([&] { read_documents((dir_ / "empty").string()); }).find("empty document"), std::string::npos);
  fs::create_directories(dir_ / "none");
  EXPECT_NE(error_of([&] { read_documents((dir_ / "none").string()); }).find("no .txt files"), std::string::npos);
  DataSpec spec;
  spec.train = write("two.txt", "a\n\nb\n");
  EXPECT_NE(error_of([&] { load_lm_files(spec); }).find("too few documents"), std::string::npos);
}

}  // namespace
}  // namespace rt3::data
