// rt3::SpmModel (our protobuf-free SentencePiece) against libsentencepiece itself: every id,
// piece and decoded string must equal what rt3::SentencePieceTokenizer (the test-only wrapper of
// Debian's libsentencepiece) returns for the same model. Models are trained here on State of
// the Union text; the compared lines come from speeches not used in training.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include "tests/reference/libspm_tokenizer.h"
#include "runtime/tokenizer/spm_model.h"
#include "tests/reference/libspm_train.h"

namespace {

namespace fs = std::filesystem;

std::string data_dir() {
  const char* env = std::getenv("RT3_DATA_DIR");
  return (env && *env) ? env : RT3_DEFAULT_DATA_DIR;
}

// Sentences of the sotu speeches: paragraphs split after ". " so lines fit the trainer's
// max_sentence_length. Files sorted by name (chronological).
struct Corpus {
  std::vector<std::string> train;  // first 60% of the speeches
  std::vector<std::string> test;   // the rest
  std::vector<std::string> paragraphs;  // whole test paragraphs (long lines)
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    std::vector<fs::path> files;
    const fs::path dir = fs::path(data_dir()) / "sotu" / "data";
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const size_t split = files.size() * 6 / 10;
    for (size_t i = 0; i < files.size(); ++i) {
      std::ifstream in(files[i]);
      std::string para;
      while (std::getline(in, para)) {
        if (para.empty()) continue;
        auto& dst = i < split ? out.train : out.test;
        if (i >= split && out.paragraphs.size() < 200) out.paragraphs.push_back(para);
        size_t pos = 0;
        while (pos < para.size()) {
          size_t end = para.find(". ", pos);
          end = end == std::string::npos ? para.size() : end + 1;
          dst.push_back(para.substr(pos, end - pos));
          pos = end + 1;
        }
      }
    }
    return out;
  }();
  return c;
}

// Every 7th training sentence: enough for vocabularies up to ~1000 and quick to train.
std::vector<std::string> training_sample() {
  std::vector<std::string> out;
  const auto& t = corpus().train;
  for (size_t i = 0; i < t.size(); i += 7) out.push_back(t[i]);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Leaked on purpose: ScratchCleanup's destructor runs at exit and must still see it (a static
// path object could already be destroyed by then).
fs::path scratch_dir() {
  static const fs::path* dir = new fs::path([] {
    std::random_device rd;
    fs::path d = fs::temp_directory_path() /
                 ("rt3_spm_test." + std::to_string(::getpid()) + "." + std::to_string(rd()));
    fs::create_directories(d);
    return d;
  }());
  return *dir;
}

struct ScratchCleanup {
  ~ScratchCleanup() {
    std::error_code ec;
    fs::remove_all(scratch_dir(), ec);
  }
};
const ScratchCleanup cleanup_at_exit;

bool have_spm_train() { return std::system("command -v spm_train >/dev/null 2>&1") == 0; }

// Debian's spm_train binary: SpmTrainOptions has no normalization option, and we need
// identity models (and user-defined symbols, char models) too.
std::string train_with_cli(const std::string& name, const std::string& flags) {
  const fs::path dir = scratch_dir();
  const fs::path input = dir / "train.txt";
  if (!fs::exists(input)) {
    std::ofstream out(input);
    for (const auto& s : training_sample()) out << s << '\n';
  }
  const fs::path prefix = dir / name;
  const std::string cmd = "spm_train --input='" + input.string() + "' --model_prefix='" +
                          prefix.string() + "' --num_threads=1 --character_coverage=1.0 " + flags +
                          " >'" + (dir / (name + ".log")).string() + "' 2>&1";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("spm_train failed: " + cmd + "\n" + read_file(dir / (name + ".log")));
  return read_file(prefix.string() + ".model");
}

// Trained once per process and shared by the tests that need the same model.
const std::string& train_with_library(rt3::SpmTrainOptions::ModelType type, int vocab,
                                      bool byte_fallback) {
  static std::map<std::tuple<int, int, bool>, std::string> cache;
  const auto key = std::make_tuple(static_cast<int>(type), vocab, byte_fallback);
  auto it = cache.find(key);
  if (it == cache.end()) {
    rt3::SpmTrainOptions o;
    o.model_type = type;
    o.vocab_size = vocab;
    o.byte_fallback = byte_fallback;
    // Normalization is the trainer's default, nmt_nfkc (SpmTrainOptions has no option for it).
    it = cache.emplace(key, rt3::train_sentencepiece(training_sample(), o)).first;
  }
  return it->second;
}

// Strings that exercise whitespace handling, unknown characters, normalization and odd bytes.
std::vector<std::string> tricky_strings() {
  std::vector<std::string> s = {
      "", " ", "   ", "\t", "\n", " \t\n ", "a", " a", "a ", "  leading", "trailing  ",
      "multiple   inner    spaces", "tab\tseparated\twords", "new\nline", "\r\n windows\r\n",
      "Hello, world!", "The United States of America.", "1234567890", "3.14159 and 2,718",
      "$1,000,000.00 (one million)", "!!!???...;;;:::", "\"quoted\" 'single' `back`",
      "emoji 😀 here", "😀😀😀", "x😀y😀😀z", "日本語のテキスト", "中文 文本 混合 English",
      "한국어", "Ελληνικά", "Русский текст", "עברית", "العربية", "हिन्दी",
      "ＦＵＬＬ ｗｉｄｔｈ １２３", "ﬁnance ﬂow ﬀ", "Ⅻ ㍻ ㌔", "café cafe\u0301", "Å Å",
      "①②③", "x²+y³", "…", "ｶﾀｶﾅ", "\u3000ideographic\u3000space\u3000",
      "nbsp\u00a0here", "zero\u200bwidth", "soft\u00adhyphen", "\u2028line sep",
      "\x01\x02control\x7f", std::string("nul\0byte", 8), "bad \xff utf8", "\xc3\x28 \xe2\x82",
      "overlong \xc0\xaf", "surrogate \xed\xa0\x80", "\xf4\x90\x80\x80 too big",
      "▁already▁escaped▁", " ▁ ", "<s> </s> <unk> <pad>",
      "Supercalifragilisticexpialidocious", "antidisestablishmentarianism",
      std::string(300, 'a'), std::string(100, ' ') + "x" + std::string(100, ' '),
  };
  std::string long_word;
  for (int i = 0; i < 50; ++i) long_word += "constitution";
  s.push_back(long_word);
  // Random mixtures of the troublesome pieces.
  const std::vector<std::string> atoms = {"a", "the", " ", "  ", "\t", "\n", "😀", "日", "本",
                                          "Ａ", "ﬁ", "é", "e\u0301", ".", ",", "7", "\xff", "▁",
                                          "\u3000", "ﾊ", "ﾟ", "①", "Congress", "people"};
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string t;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) t += atoms[rng() % atoms.size()];
    s.push_back(t);
  }
  return s;
}

// Compares everything observable between our model and libsentencepiece on `lines`.
// Returns the number of lines compared.
size_t expect_same(const std::string& model_bytes, const std::vector<std::string>& lines,
                   const std::string& label) {
  const rt3::SpmModel ours = rt3::SpmModel::from_bytes(model_bytes);
  const rt3::SentencePieceTokenizer ref = rt3::SentencePieceTokenizer::from_bytes(model_bytes);

  EXPECT_EQ(ours.vocab_size(), ref.vocab_size()) << label;
  EXPECT_EQ(ours.bos_id(), ref.bos_id()) << label;
  EXPECT_EQ(ours.eos_id(), ref.eos_id()) << label;
  EXPECT_EQ(ours.unk_id(), ref.unk_id()) << label;
  EXPECT_EQ(ours.pad_id(), ref.pad_id()) << label;
  for (size_t id = 0; id < ref.vocab_size(); ++id) {
    const auto i = static_cast<int32_t>(id);
    EXPECT_EQ(ours.id_to_piece(i), ref.id_to_piece(i)) << label;
    EXPECT_EQ(ours.piece_to_id(ref.id_to_piece(i)), ref.piece_to_id(ref.id_to_piece(i))) << label;
  }
  for (const char* p : {"", "no such piece", "<0x41>", "▁", "<s>"})
    EXPECT_EQ(ours.piece_to_id(p), ref.piece_to_id(p)) << label << " piece '" << p << "'";

  size_t mismatches = 0;
  for (const std::string& line : lines) {
    const std::vector<int32_t> ids = ours.encode(line);
    const std::vector<int32_t> want = ref.encode(line);
    const bool same_ids = ids == want;
    const bool same_pieces = ours.encode_pieces(line) == ref.encode_pieces(line);
    const bool same_text = ours.decode(ids) == ref.decode(want);
    if (!same_ids || !same_pieces || !same_text) {
      if (++mismatches <= 5) {
        std::string got_s, want_s;
        for (auto i : ids) got_s += std::to_string(i) + " ";
        for (auto i : want) want_s += std::to_string(i) + " ";
        ADD_FAILURE() << label << ": mismatch on '" << line << "'\n ours: " << got_s
                      << "\n  ref: " << want_s << "\n pieces equal " << same_pieces
                      << ", decode equal " << same_text;
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << label << ": " << mismatches << " of " << lines.size() << " differ";

  // Decoding arbitrary id sequences (control, unk, byte pieces anywhere) must match too.
  std::mt19937 rng(11);
  const auto n = static_cast<uint32_t>(ref.vocab_size());
  for (int k = 0; k < 500; ++k) {
    std::vector<int32_t> ids(rng() % 8);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % std::min<uint32_t>(n, k % 2 ? 12 : n));
    EXPECT_EQ(ours.decode(ids), ref.decode(ids)) << label << " random ids #" << k;
  }
  return lines.size();
}

std::vector<std::string> comparison_lines() {
  std::vector<std::string> lines;
  const auto& test = corpus().test;
  const size_t step = std::max<size_t>(1, test.size() / 2500);
  for (size_t i = 0; i < test.size() && lines.size() < 2500; i += step) lines.push_back(test[i]);
  for (const auto& p : corpus().paragraphs) lines.push_back(p);
  for (auto& t : tricky_strings()) lines.push_back(std::move(t));
  return lines;
}

class SpmModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (corpus().train.empty() || corpus().test.size() < 2000)
      GTEST_SKIP() << "sotu data missing under " << data_dir();
  }
  void check(const std::string& bytes, const std::string& label) {
    const size_t n = expect_same(bytes, comparison_lines(), label);
    EXPECT_GE(n, 2000u + tricky_strings().size());
    std::cout << "[ spm ] " << label << ": " << n << " lines compared\n";
  }
};

TEST_F(SpmModelTest, SpmModelUnigramIdentityMatchesLibsentencepiece) {
  if (!have_spm_train()) GTEST_SKIP() << "spm_train not installed";
  for (int vocab : {300, 1000}) {
    const std::string bytes = train_with_cli(
        "ident" + std::to_string(vocab),
        "--model_type=unigram --normalization_rule_name=identity --vocab_size=" + std::to_string(vocab));
    const rt3::SpmModel m = rt3::SpmModel::from_bytes(bytes);
    EXPECT_EQ(m.normalizer_name(), "identity");
    EXPECT_EQ(m.model_type(), rt3::SpmModel::ModelType::kUnigram);
    check(bytes, "unigram identity " + std::to_string(vocab));
  }
}

TEST_F(SpmModelTest, SpmModelUnigramNfkcMatchesLibsentencepiece) {
  for (int vocab : {300, 1000}) {
    const std::string bytes = train_with_library(rt3::SpmTrainOptions::ModelType::kUnigram, vocab, false);
    EXPECT_EQ(rt3::SpmModel::from_bytes(bytes).normalizer_name(), "nmt_nfkc");
    check(bytes, "unigram nmt_nfkc " + std::to_string(vocab));
  }
}

TEST_F(SpmModelTest, SpmModelBpeMatchesLibsentencepiece) {
  const std::string bytes = train_with_library(rt3::SpmTrainOptions::ModelType::kBpe, 1000, false);
  EXPECT_EQ(rt3::SpmModel::from_bytes(bytes).model_type(), rt3::SpmModel::ModelType::kBpe);
  check(bytes, "bpe nmt_nfkc 1000");
}

TEST_F(SpmModelTest, SpmModelByteFallbackMatchesLibsentencepiece) {
  check(train_with_library(rt3::SpmTrainOptions::ModelType::kUnigram, 600, true),
        "unigram byte_fallback 600");
}

TEST_F(SpmModelTest, SpmModelUserDefinedSymbolsAndCharModelMatch) {
  if (!have_spm_train()) GTEST_SKIP() << "spm_train not installed";
  check(train_with_cli("user", "--model_type=unigram --vocab_size=500 "
                               "--user_defined_symbols='<sep>,[MASK],ﬁ' --pad_id=3 --unk_id=0 "
                               "--bos_id=1 --eos_id=2"),
        "unigram user-defined 500");
  check(train_with_cli("char", "--model_type=char --normalization_rule_name=identity"),
        "char identity");
  check(train_with_cli("bpeid", "--model_type=bpe --vocab_size=800 --normalization_rule_name=identity"),
        "bpe identity 800");
}

TEST_F(SpmModelTest, SpmModelRejectsUnsupportedOptionsClearly) {
  if (!have_spm_train()) GTEST_SKIP() << "spm_train not installed";
  auto message_of = [](const std::string& bytes) -> std::string {
    try {
      rt3::SpmModel::from_bytes(bytes);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message_of(train_with_cli("word", "--model_type=word --vocab_size=500")).find("WORD"),
            std::string::npos);
  EXPECT_NE(message_of(train_with_cli("suffix", "--model_type=unigram --vocab_size=300 "
                                                "--treat_whitespace_as_suffix=true"))
                .find("treat_whitespace_as_suffix"),
            std::string::npos);
}

TEST_F(SpmModelTest, SpmModelFromFileEqualsFromBytes) {
  const std::string bytes = train_with_library(rt3::SpmTrainOptions::ModelType::kUnigram, 300, false);
  const fs::path path = scratch_dir() / "from_file.model";
  std::ofstream(path, std::ios::binary) << bytes;
  const rt3::SpmModel a = rt3::SpmModel::from_file(path.string());
  const rt3::SpmModel b = rt3::SpmModel::from_bytes(bytes);
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (const auto& line : comparison_lines()) EXPECT_EQ(a.encode(line), b.encode(line));
  EXPECT_THROW(rt3::SpmModel::from_file((scratch_dir() / "missing.model").string()), std::runtime_error);
}

TEST(SpmModel, SpmModelRejectsCorruptBytes) {
  auto message_of = [](const std::string& bytes) -> std::string {
    try {
      rt3::SpmModel::from_bytes(bytes);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message_of("").find("empty"), std::string::npos);
  EXPECT_NE(message_of(std::string("\x0a") + std::string(11, '\xff')).find("varint"), std::string::npos);
  EXPECT_NE(message_of("\x0a\x05\x0a\x03" "ab").find("runs past"), std::string::npos);  // truncated
  EXPECT_NE(message_of("\x08\x01").find("wire type"), std::string::npos);  // pieces as varint
  EXPECT_NE(message_of("\x0b").find("wire type"), std::string::npos);      // group
  EXPECT_NE(message_of(std::string("\x00", 1)).find("field number"), std::string::npos);
  EXPECT_NE(message_of("\x0a\x03\x0a\x01x").find("UNKNOWN"), std::string::npos);  // no <unk>
}

TEST_F(SpmModelTest, SpmModelTruncatedOrMutatedModelNeverCrashes) {
  const std::string bytes = train_with_library(rt3::SpmTrainOptions::ModelType::kUnigram, 300, false);
  // Every truncation either loads (a protobuf cut at a field boundary is still a valid message)
  // or throws std::runtime_error; cutting inside the first piece must throw.
  for (size_t len = 0; len < bytes.size(); len += (len < 4096 ? 1 : 997)) {
    try {
      (void)rt3::SpmModel::from_bytes(std::string_view(bytes).substr(0, len));
    } catch (const std::runtime_error&) {
    }
  }
  EXPECT_THROW(rt3::SpmModel::from_bytes(std::string_view(bytes).substr(0, 5)), std::runtime_error);
  std::mt19937 rng(3);
  int loaded = 0;
  for (int k = 0; k < 300; ++k) {
    std::string m = bytes;
    for (int f = 0; f < 4; ++f) m[rng() % m.size()] ^= static_cast<char>(1 + rng() % 255);
    try {
      const rt3::SpmModel model = rt3::SpmModel::from_bytes(m);
      (void)model.encode("Fellow citizens, the state of the Union is strong. ＦＵＬＬ ﬁ 😀");
      ++loaded;
    } catch (const std::runtime_error&) {
    }
  }
  for (int k = 0; k < 300; ++k) {
    std::string m(rng() % 200, '\0');
    for (auto& c : m) c = static_cast<char>(rng());
    try {
      (void)rt3::SpmModel::from_bytes(m);
    } catch (const std::runtime_error&) {
    }
  }
  std::cout << "[ spm ] " << loaded << " of 300 mutated models still loaded\n";
}

TEST_F(SpmModelTest, SpmModelDecodeRejectsBadIds) {
  const rt3::SpmModel m = rt3::SpmModel::from_bytes(
      train_with_library(rt3::SpmTrainOptions::ModelType::kUnigram, 300, false));
  EXPECT_THROW(m.decode({-1}), std::out_of_range);
  EXPECT_THROW(m.decode({static_cast<int32_t>(m.vocab_size())}), std::out_of_range);
  EXPECT_THROW(m.id_to_piece(-5), std::out_of_range);
}

}  // namespace
