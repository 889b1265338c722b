#include "train/data/documents.h"

#include <filesystem>
#include <utility>

#include "train/data/paths.h"
#include "train/data/stratify.h"
#include "train/data/text.h"
#include "train/data/user_text.h"

namespace rt3::data {
namespace fs = std::filesystem;

namespace {

bool blank_line(std::string_view s) { return s.find_first_not_of(" \t\f\v") == std::string_view::npos; }

// sanitize_utf8 on text already checked to be UTF-8 only turns control characters into spaces,
// which is what the sotu corpus always had.
std::string normalise(const std::string& bytes) { return strip_trailing_whitespace(unify_newlines(sanitize_utf8(bytes))); }

}  // namespace

DocumentSet read_documents(const std::string& path) {
  DocumentSet set;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& file : list_files(path, ".txt")) {
      std::string text = normalise(read_utf8_file(file));
      if (text.empty()) throw data_error(file, 0, "empty document (the file holds no text)");
      std::string id = fs::path(file).stem().string();
      set.keys.push_back(id);
      set.docs.push_back({std::move(id), std::move(text)});
    }
    if (set.docs.empty()) throw data_error(path, 0, "no .txt files in this folder (one document per file)");
    return set;
  }
  const std::string text = unify_newlines(sanitize_utf8(read_utf8_file(path)));
  const std::string name = fs::path(path).filename().string();
  std::string block;
  std::size_t line = 0, first = 0;
  auto flush = [&] {
    std::string doc = strip_trailing_whitespace(block);
    block.clear();
    if (doc.empty()) return;
    set.keys.push_back(doc);
    set.docs.push_back({name + ":" + std::to_string(first), std::move(doc)});
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view l(text.data() + start, end - start);
    ++line;
    if (blank_line(l)) {
      flush();
    } else {
      if (block.empty()) first = line;
      block.append(l.data(), l.size());
      block += '\n';
    }
    start = end + 1;
  }
  flush();
  if (set.docs.empty()) throw data_error(path, 0, "no text (documents are separated by blank lines)");
  return set;
}

void split_documents(DocumentSet set, const SplitSpec& spec, LmCorpus& out) {
  const std::vector<Split> where = assign_splits(set.keys, spec);
  for (std::size_t i = 0; i < set.docs.size(); ++i) {
    auto& dst = where[i] == Split::train ? out.train : where[i] == Split::valid ? out.valid : out.test;
    dst.push_back(std::move(set.docs[i]));
  }
}

LmCorpus load_lm_files(const DataSpec& spec, const SplitSpec& split) {
  if (spec.train.empty()) throw std::runtime_error("no training text: pass --data DIR|FILE or --train FILE");
  LmCorpus corpus;
  corpus.name = "lm";
  DocumentSet train = read_documents(spec.train);
  corpus.source.records_read = train.docs.size();
  split_documents(std::move(train), carve_spec(split, spec.valid.empty(), spec.test.empty()), corpus);
  const std::string* paths[2] = {&spec.valid, &spec.test};
  std::vector<Document>* dst[2] = {&corpus.valid, &corpus.test};
  for (int s = 0; s < 2; ++s) {
    if (paths[s]->empty()) continue;
    DocumentSet given = read_documents(*paths[s]);
    corpus.source.records_read += given.docs.size();
    for (auto& d : given.docs) dst[s]->push_back(std::move(d));
  }
  if (corpus.valid.empty() || corpus.test.empty())
    throw data_error(spec.train, 0, "too few documents to carve validation and test splits (need 3): add documents "
                                    "(blank lines separate them in one file) or pass --valid / --test");
  return corpus;
}

}  // namespace rt3::data
