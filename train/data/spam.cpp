#include "train/data/spam.h"

#include <cctype>
#include <filesystem>
#include <utility>

#include "train/data/dedupe.h"
#include "train/data/stratify.h"
#include "train/data/paths.h"
#include "train/data/text.h"

namespace rt3::data {
namespace {

struct Folder {
  const char* name;
  int label;
};
constexpr Folder kFolders[] = {{"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0},
                               {"spam-1", 1},     {"spam-2", 1}};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// Value of the first header called `name` (e.g. "subject:", lower case with the colon), with
// folded continuation lines joined; empty if absent.
std::string header_value(std::string_view headers, std::string_view name) {
  std::string value;
  bool found = false;
  std::size_t start = 0;
  while (start < headers.size()) {
    std::size_t end = headers.find('\n', start);
    if (end == std::string_view::npos) end = headers.size();
    const std::string_view line = headers.substr(start, end - start);
    start = end + 1;
    if (found) {
      if (line.empty() || (line[0] != ' ' && line[0] != '\t')) break;
      value += ' ';
      value += line;
    } else if (starts_with_ci(line, name)) {
      value = line.substr(name.size());
      found = true;
    }
  }
  return value;
}

}  // namespace

std::string email_to_text(std::string_view raw) {
  const std::string mail = unify_newlines(raw);
  const std::size_t blank = mail.find("\n\n");
  // A message with no empty line is all headers (RFC 822); it still has a subject.
  const std::string_view headers =
      std::string_view(mail).substr(0, blank == std::string::npos ? mail.size() : blank);
  std::string body = blank == std::string::npos ? std::string() : mail.substr(blank + 2);
  // Only the top-level encoding is undone: in this corpus it is almost only spam that is
  // quoted-printable (378 of 1,896 spam, 13 of 4,150 ham), so leaving "=3D" and "=20" in
  // the text would hand the classifier an encoding artefact instead of content.
  if (starts_with_ci(collapse_whitespace(header_value(headers, "content-transfer-encoding:")),
                     "quoted-printable"))
    body = decode_quoted_printable(body);
  const std::string subject = sanitize_utf8(header_value(headers, "subject:"));
  return collapse_whitespace(subject + "\n" + strip_html_tags(sanitize_utf8(body)));
}

ClassCorpus load_spam(const std::string& data_dir, const SplitSpec& spec) {
  validate(spec);
  const std::string root = data_dir + "/spam-assassin/data";
  for (const auto& f : kFolders) require_dir(root + "/" + f.name, "spam-assassin corpus");

  ClassCorpus corpus;
  corpus.name = "spam";
  corpus.label_names = {"ham", "spam"};
  std::vector<LabeledExample> examples;
  for (const auto& f : kFolders) {
    for (const auto& path : list_files(root + "/" + f.name, ".txt")) {
      ++corpus.source.records_read;
      std::string text = email_to_text(read_file(path));
      if (text.empty()) {
        ++corpus.source.empty_dropped;
        continue;
      }
      std::string id = std::string(f.name) + "/" + std::filesystem::path(path).stem().string();
      examples.push_back({std::move(text), f.label, std::move(id), {}});
    }
  }
  const DedupeCounts d = dedupe_exact(examples);
  corpus.source.duplicates_dropped = d.duplicates;
  corpus.source.conflicting_dropped = d.conflicting;
  split_stratified(std::move(examples), spec, corpus);
  return corpus;
}

}  // namespace rt3::data
