// Small, dependency-free text clean-up steps shared by the corpus loaders. Each does one thing
// so a loader's preprocessing reads as a list of steps (and docs/data.md can name them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rt3::data {

// "\r\n" and lone "\r" become "\n".
std::string unify_newlines(std::string_view text);

// Drops spaces/tabs at the end of every line and blank lines at the start and end of the text.
// Expects unified newlines.
std::string strip_trailing_whitespace(std::string_view text);

// Every run of ASCII whitespace becomes one space; leading/trailing whitespace is removed.
std::string collapse_whitespace(std::string_view text);

// Crude HTML tag removal for e-mail bodies: "<" followed by a letter, '/', '!' or '?' up to the
// next ">" becomes a space (comments "<!-- ... -->" as a whole). Not a parser: entities stay as
// they are and an unterminated "<" is kept. Angle-bracketed autolinks without spaces that hold
// "@" or "://" (<http://x.com>, <bob@x.com>) are kept, since URLs and addresses carry signal.
std::string strip_html_tags(std::string_view text);

// Makes arbitrary bytes valid UTF-8 (tokenizers such as SentencePiece need it): valid UTF-8
// passes through, each byte of an invalid sequence is read as Windows-1252 (Latin-1 plus curly
// quotes etc.; the usual charset of old e-mail), and ASCII control characters other than
// \t \n \r become spaces.
std::string sanitize_utf8(std::string_view bytes);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid, per RFC 3629).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// Quoted-printable (RFC 2045) to bytes: "=\n" soft line breaks removed, "=XX" hex escapes
// decoded; a malformed "=" is kept as it is. Expects unified newlines.
std::string decode_quoted_printable(std::string_view text);

// Number of whitespace-separated words.
std::size_t count_words(std::string_view text);

}  // namespace rt3::data
