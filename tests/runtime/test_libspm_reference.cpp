// SentencePiece training (tests/reference/libspm_train.h) and the runtime wrapper
// (tests/reference/libspm_tokenizer.h), on sentences from real State of the Union speeches.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "tests/reference/libspm_tokenizer.h"
#include "tests/reference/libspm_train.h"

namespace {

namespace fs = std::filesystem;

std::string data_dir() {
  const char* env = std::getenv("RT3_DATA_DIR");
  return (env && *env) ? env : RT3_DEFAULT_DATA_DIR;
}

// A scratch folder removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("rt3_spm." + std::to_string(::getpid()) + "." + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A few hundred sentences: three speeches split at ". ", with whitespace collapsed (so that
// SentencePiece's normalisation leaves them unchanged and decode(encode(s)) == s exactly).
const std::vector<std::string>& sentences() {
  static const std::vector<std::string> out = [] {
    std::vector<std::string> s;
    for (const char* name : {"1790_george_washington_n.txt", "1862_abraham_lincoln_r.txt",
                             "1934_franklin_d_roosevelt_d.txt"}) {
      const std::string text = slurp(fs::path(data_dir()) / "sotu/data" / name);
      std::string cur;
      for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        if (space) {
          if (!cur.empty() && cur.back() != ' ') cur += ' ';
        } else {
          cur += c;
        }
        if (c == '.' && (i + 1 == text.size() || text[i + 1] == ' ')) {
          while (!cur.empty() && cur.back() == ' ') cur.pop_back();
          if (cur.size() > 1) s.push_back(cur);
          cur.clear();
        }
      }
    }
    return s;
  }();
  return out;
}

rt3::SpmTrainOptions small_options() {
  rt3::SpmTrainOptions o;
  o.vocab_size = 200;
  o.num_threads = 1;
  return o;
}

// One trained model shared by the tests that only read it.
const std::string& small_model() {
  static const std::string model = rt3::train_sentencepiece(sentences(), small_options());
  return model;
}

TEST(SentencePiece, CorpusIsBigEnough) { EXPECT_GE(sentences().size(), 300u); }

TEST(SentencePiece, TrainsAndRoundTrips) {
  const auto tok = rt3::SentencePieceTokenizer::from_bytes(small_model());
  EXPECT_EQ(tok.vocab_size(), 200u);
  size_t total_ids = 0, total_chars = 0;
  for (size_t i = 0; i < sentences().size(); i += 7) {
    const std::string& s = sentences()[i];
    const std::vector<int32_t> ids = tok.encode(s);
    ASSERT_FALSE(ids.empty()) << s;
    for (int32_t id : ids) EXPECT_NE(id, tok.unk_id()) << s;  // coverage 1.0: no unknowns
    EXPECT_EQ(tok.decode(ids), s);
    total_ids += ids.size();
    total_chars += s.size();
  }
  // A 200-piece vocab must still merge characters: fewer ids than bytes.
  EXPECT_LT(total_ids, total_chars);
  // Unseen text with seen characters round-trips too.
  const std::string unseen = "The Congress shall act upon these matters, said the President.";
  EXPECT_EQ(tok.decode(tok.encode(unseen)), unseen);
}

TEST(SentencePiece, PiecesAndSpecialIds) {
  const auto tok = rt3::SentencePieceTokenizer::from_bytes(small_model());
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.pad_id(), -1);
  EXPECT_EQ(tok.id_to_piece(0), "<unk>");
  EXPECT_EQ(tok.id_to_piece(1), "<s>");
  EXPECT_EQ(tok.piece_to_id("</s>"), std::optional<int32_t>(2));
  EXPECT_EQ(tok.piece_to_id("<unk>"), std::optional<int32_t>(0));
  EXPECT_EQ(tok.piece_to_id("no such piece at all"), std::nullopt);
  // Pieces and ids agree both ways.
  const std::vector<std::string> pieces = tok.encode_pieces("the people");
  const std::vector<int32_t> ids = tok.encode("the people");
  ASSERT_EQ(pieces.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(tok.id_to_piece(ids[i]), pieces[i]);
    EXPECT_EQ(tok.piece_to_id(pieces[i]), std::optional<int32_t>(ids[i]));
  }
  EXPECT_THROW(tok.id_to_piece(200), std::out_of_range);
  EXPECT_THROW(tok.decode({5, -1}), std::out_of_range);
}

TEST(SentencePiece, FileAndBytesLoadTheSameModel) {
  TempDir dir;
  const fs::path path = dir.path / "sotu.model";
  rt3::train_sentencepiece_to_file(sentences(), path.string(), small_options());
  // Written atomically: only the model is left in the folder, no temporary.
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "sotu.model");
  }
  EXPECT_EQ(files, 1u);

  const auto from_file = rt3::SentencePieceTokenizer::from_file(path.string());
  const auto from_bytes = rt3::SentencePieceTokenizer::from_bytes(slurp(path));
  EXPECT_TRUE(from_file.serialized_model() == from_bytes.serialized_model());
  EXPECT_TRUE(from_file.serialized_model() == slurp(path));
  EXPECT_EQ(from_file.vocab_size(), from_bytes.vocab_size());
  for (size_t i = 0; i < sentences().size(); i += 11)
    EXPECT_EQ(from_file.encode(sentences()[i]), from_bytes.encode(sentences()[i]));
}

TEST(SentencePiece, TrainingIsDeterministic) {
  // Same input and options: identical model bytes (unigram and BPE, with the subsampling path).
  // Compared with EXPECT_TRUE so a failure does not print two binary models.
  rt3::SpmTrainOptions o = small_options();
  o.max_sentences = 250;
  EXPECT_TRUE(rt3::train_sentencepiece(sentences(), o) == rt3::train_sentencepiece(sentences(), o));
  o.model_type = rt3::SpmTrainOptions::ModelType::kBpe;
  const std::string bpe = rt3::train_sentencepiece(sentences(), o);
  EXPECT_TRUE(bpe == rt3::train_sentencepiece(sentences(), o));
  EXPECT_FALSE(bpe == small_model());
  // With several trainer threads the unigram scores differ in the last bits from the
  // one-thread model (floating-point sums in another order), but a fixed thread count is
  // still reproducible.
  rt3::SpmTrainOptions threaded = small_options();
  threaded.num_threads = 2;
  EXPECT_TRUE(rt3::train_sentencepiece(sentences(), threaded) ==
              rt3::train_sentencepiece(sentences(), threaded));
}

TEST(SentencePiece, BpeModelRoundTrips) {
  rt3::SpmTrainOptions o = small_options();
  o.model_type = rt3::SpmTrainOptions::ModelType::kBpe;
  const auto tok = rt3::SentencePieceTokenizer::from_bytes(rt3::train_sentencepiece(sentences(), o));
  EXPECT_EQ(tok.vocab_size(), 200u);
  for (size_t i = 0; i < sentences().size(); i += 13)
    EXPECT_EQ(tok.decode(tok.encode(sentences()[i])), sentences()[i]);
}

TEST(SentencePiece, TrainsFromTextFile) {
  TempDir dir;
  const fs::path text = dir.path / "corpus.txt";
  {
    std::ofstream out(text, std::ios::binary);
    for (const std::string& s : sentences()) out << s << "\r\n\n";  // CRLF and blank lines
  }
  const fs::path model = dir.path / "from_file.model";
  rt3::train_sentencepiece_from_text_file(text.string(), model.string(), small_options());
  EXPECT_TRUE(slurp(model) == small_model());  // same sentences, same model
  EXPECT_THROW(rt3::train_sentencepiece_from_text_file((dir.path / "missing.txt").string(),
                                                       model.string(), small_options()),
               std::runtime_error);
}

TEST(SentencePiece, ClearErrors) {
  try {
    rt3::SentencePieceTokenizer::from_file("/nonexistent/dir/m.model");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/m.model"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(rt3::SentencePieceTokenizer::from_bytes(""), std::runtime_error);
  EXPECT_THROW(rt3::SentencePieceTokenizer::from_bytes("not a model proto"), std::runtime_error);

  rt3::SpmTrainOptions too_big = small_options();
  too_big.vocab_size = 100000;  // far more pieces than a few hundred sentences can give
  try {
    rt3::train_sentencepiece(sentences(), too_big);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("spm_train"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rt3::train_sentencepiece({}, small_options()), std::runtime_error);
  EXPECT_THROW(rt3::train_sentencepiece({"", ""}, small_options()), std::runtime_error);
}

}  // namespace
