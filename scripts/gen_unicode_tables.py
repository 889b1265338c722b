#!/usr/bin/env python3
"""Generate runtime/tokenizer/unicode_tables.inc: the Unicode data the BERT tokenizer needs.

The device build must not depend on ICU or on Python, so the tables are generated once and
committed. Everything is a sorted range list (binary-searched at run time) to stay small.

Which Unicode version? Our reference is the Hugging Face `tokenizers` Rust library, and it mixes
versions: its character classes (control, punctuation, Mn) come from the `unicode_categories`
crate, whose tables are Unicode 8.0, its NFD from an old `unicode-normalization` fork, while
whitespace and lower-casing come from Rust's std (recent Unicode). An exhaustive comparison over
all code points (tests/runtime/test_wordpiece.cpp, AllCodePointsMatchHF) showed that HF behaves
exactly as "Unicode 8.0 categories and decompositions; code points unassigned in 8.0 are plain
letters (not control, not punctuation, not marks)". Python's unicodedata only has the current
version, so we take categories from it and drop every code point whose Age is newer than 8.0
(Age comes from perl's Unicode::UCD, which ships with the same Unicode version on Debian 12),
then put back the 8.0 category of the few code points whose category changed since.

Usage: scripts/gen_unicode_tables.py [--out runtime/tokenizer/unicode_tables.inc]
"""
import argparse
import bisect
import os
import subprocess
import sys
import unicodedata

HF_UNICODE_VERSION = (8, 0)

# General categories in Unicode 8.0 of the code points whose category changed in 9.0..14.0 in a
# way that matters to us (control / punctuation / Mn). Checked against HF by the exhaustive test.
UNICODE_8_CATEGORY = {
    0x166D: "Po",   # CANADIAN SYLLABICS CHI SIGN: So since 12.0
    0x1734: "Mn",   # HANUNOO SIGN PAMUDPOD: Mc since 14.0
    0x1885: "Lo",   # MONGOLIAN LETTER ALI GALI BALUDA: Mn since 9.0
    0x1886: "Lo",   # MONGOLIAN LETTER ALI GALI THREE BALUDA: Mn since 9.0
    0xA9BD: "Mc",   # JAVANESE CONSONANT SIGN KERET: Mn since 12.0
    0x111C9: "Po",  # SHARADA SANDHI MARK: Mn since 11.0
}

MAX_CP = 0x110000


def load_ages():
    """Age property as (range starts, versions), from perl's Unicode::UCD."""
    script = ('use Unicode::UCD qw(prop_invmap); print Unicode::UCD::UnicodeVersion(), "\\n";'
              'my ($l, $m) = prop_invmap("Age");'
              'for my $i (0 .. $#$l) { printf "%x\\t%s\\n", $l->[$i], $m->[$i]; }')
    try:
        out = subprocess.run(["perl", "-e", script], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError) as err:
        sys.exit(f"gen_unicode_tables: need perl with Unicode::UCD for the Age property: {err}")
    if out[0] != unicodedata.unidata_version:
        sys.exit(f"gen_unicode_tables: perl has Unicode {out[0]} but python has "
                 f"{unicodedata.unidata_version}; ages and categories must agree")
    starts, versions = [], []
    for line in out[1:]:
        start, age = line.split("\t")
        starts.append(int(start, 16))
        versions.append(None if age == "Unassigned" else tuple(int(x) for x in age.split(".")))
    return starts, versions


def make_category(ages):
    starts, versions = ages

    def category(cp):
        if cp in UNICODE_8_CATEGORY:
            return UNICODE_8_CATEGORY[cp]
        age = versions[bisect.bisect_right(starts, cp) - 1]
        if age is None or age > HF_UNICODE_VERSION:
            return "Cn"
        return unicodedata.category(chr(cp))
    return category


def ranges(pred):
    """Inclusive [lo, hi] ranges of the code points where pred is true."""
    out, lo = [], None
    for cp in range(MAX_CP + 1):
        inside = cp < MAX_CP and pred(cp)
        if inside and lo is None:
            lo = cp
        elif not inside and lo is not None:
            out.append((lo, cp - 1))
            lo = None
    return out


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def full_nfd(cp):
    # Hangul syllables are decomposed arithmetically at run time; keep them out of the table.
    if 0xAC00 <= cp <= 0xD7A3 or is_surrogate(cp):
        return None
    d = unicodedata.normalize("NFD", chr(cp))
    return None if d == chr(cp) else [ord(c) for c in d]


def lowercase_runs(mappings):
    """Compress {cp: lower_cp} into (lo, hi, stride, delta) runs: most case pairs sit in blocks
    with a constant offset, either contiguous (stride 1) or alternating (stride 2)."""
    runs = []
    cps = sorted(mappings)
    i = 0
    while i < len(cps):
        lo = cps[i]
        delta = mappings[lo] - lo
        stride, hi = 1, lo
        j = i + 1
        if j < len(cps) and cps[j] - lo in (1, 2) and mappings[cps[j]] - cps[j] == delta:
            stride = cps[j] - lo
            while j < len(cps) and cps[j] == hi + stride and mappings[cps[j]] - cps[j] == delta:
                hi = cps[j]
                j += 1
        else:
            j = i + 1
        runs.append((lo, hi, stride, delta))
        i = j
    return runs


def fmt_ranges(name, rs, comment):
    body = [f"{{0x{lo:X},0x{hi:X}}}" for lo, hi in rs]
    return f"// {comment}\nconstexpr Range {name}[] = {{\n{wrap(body)}\n}};\n"


def wrap(items, width=100):
    """C initialiser items, several per line, never split inside an item."""
    lines, cur = [], ""
    for item in items:
        piece = item + ","
        if len(cur) + len(piece) > width:
            lines.append(cur)
            cur = ""
        cur += piece
    if cur:
        lines.append(cur)
    return "\n".join("    " + line for line in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "runtime/tokenizer/unicode_tables.inc"))
    args = ap.parse_args()

    category = make_category(load_ages())
    hf_version = ".".join(map(str, HF_UNICODE_VERSION))

    # Rust's char::is_whitespace is the White_Space property. Python's str.isspace() adds
    # U+001C..U+001F (bidi class B/S); take those out to get White_Space exactly.
    whitespace = ranges(lambda cp: chr(cp).isspace() and not 0x1C <= cp <= 0x1F)
    # HF's is_other = Cc | Cf | Co | Cs (unassigned code points are NOT removed).
    control = ranges(lambda cp: category(cp) in ("Cc", "Cf", "Co", "Cs"))
    punctuation = ranges(lambda cp: category(cp).startswith("P") or 33 <= cp <= 47
                         or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126)
    nonspacing = ranges(lambda cp: category(cp) == "Mn")

    def old(cp):
        return category(cp) != "Cn"

    # Canonical combining classes (needed to put decomposed marks in canonical order).
    ccc_ranges, lo, prev = [], None, 0
    for cp in range(MAX_CP + 1):
        c = unicodedata.combining(chr(cp)) if cp < MAX_CP and old(cp) else 0
        if c != prev:
            if prev:
                ccc_ranges.append((lo, cp - 1, prev))
            lo, prev = cp, c
    decomps = {}
    for cp in range(MAX_CP):
        if old(cp):
            d = full_nfd(cp)
            if d:
                decomps[cp] = d
    pool, entries = [], []
    for cp in sorted(decomps):
        d = decomps[cp]
        entries.append((cp, len(pool), len(d)))
        pool.extend(d)
    assert len(pool) < 65536 and max(len(d) for d in decomps.values()) < 256

    # Lower-casing follows Rust's char::to_lowercase (full mapping, no context), which for
    # single characters equals Python's str.lower(). One code point maps to two characters.
    single, multi = {}, {}
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        if len(low) == 1:
            single[cp] = ord(low)
        else:
            multi[cp] = [ord(c) for c in low]
    assert list(multi) == [0x130], multi  # handled as a special case in unicode.cpp
    runs = lowercase_runs(single)

    out = []
    out.append("// Generated by scripts/gen_unicode_tables.py -- do not edit.\n"
               f"// Source: Unicode {unicodedata.unidata_version} (python3 unicodedata), "
               f"restricted to code points assigned in\n// Unicode {hf_version} for the "
               "category and decomposition tables (what Hugging Face tokenizers uses).\n"
               "// Included by unicode.cpp inside namespace rt3::unicode::tables.\n")
    out.append(fmt_ranges("kWhitespace", whitespace, "White_Space property"))
    out.append(fmt_ranges("kControl", control, f"Cc|Cf|Co|Cs as of Unicode {hf_version}"))
    out.append(fmt_ranges("kPunctuation", punctuation,
                          f"ASCII punctuation plus P* as of Unicode {hf_version}"))
    out.append(fmt_ranges("kMarkNonspacing", nonspacing, f"Mn as of Unicode {hf_version}"))
    body = [f"{{0x{lo:X},0x{hi:X},{c}}}" for lo, hi, c in ccc_ranges]
    out.append(f"// Canonical_Combining_Class != 0\nconstexpr CccRange kCombiningClass[] = {{\n"
               f"{wrap(body)}\n}};\n")
    body = [f"0x{c:X}" for c in pool]
    out.append(f"// Full canonical decompositions, concatenated (Hangul syllables excluded)\n"
               f"constexpr char32_t kDecompositionPool[] = {{\n{wrap(body)}\n}};\n")
    body = [f"{{0x{cp:X},{off},{n}}}" for cp, off, n in entries]
    out.append(f"constexpr Decomposition kDecomposition[] = {{\n{wrap(body)}\n}};\n")
    body = [f"{{0x{lo:X},0x{hi:X},{s},{d}}}" for lo, hi, s, d in runs]
    out.append(f"// Simple lower-case mappings: cp in [lo, hi] with (cp - lo) % stride == 0 maps "
               f"to cp + delta\nconstexpr CaseRun kLowercase[] = {{\n{wrap(body)}\n}};\n")

    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join(out))
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: {len(whitespace)} ws, {len(control)} control, {len(punctuation)} "
          f"punct, {len(nonspacing)} Mn, {len(ccc_ranges)} ccc ranges, {len(entries)} "
          f"decompositions ({len(pool)} cps), {len(runs)} lowercase runs")


if __name__ == "__main__":
    main()
