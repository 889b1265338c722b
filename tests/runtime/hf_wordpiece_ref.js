#!/usr/bin/env node
// Reference BERT-uncased tokenization from the real Hugging Face `tokenizers` (Rust) library,
// through its Node binding @anush008/tokenizers. test_wordpiece.cpp runs this at test time so the
// expected ids never come from our own C++ code.
//
// Usage: NODE_PATH=<data>/node_modules node hf_wordpiece_ref.js <vocab.txt> <texts.json> <max_len>
//   texts.json: a JSON array; each element is a string or a [first, second] pair of strings.
// Prints a JSON array with, per element:
//   ids      - ids without special tokens
//   tokens   - the same as token strings (for readable failure messages)
//   decoded  - decode(ids with [CLS]/[SEP], skip_special_tokens = true)
//   fixed    - {ids, mask, type_ids}: with [CLS]/[SEP], truncated and padded to exactly max_len
//   normalized - the BERT normalizer's output for the (first) string alone
//
// Or: node hf_wordpiece_ref.js --codepoints
//   Prints a JSON array with, for every Unicode scalar value c in order, the words that the BERT
//   normalizer + pre-tokenizer make of "a" + c + "a", joined by single spaces.
"use strict";
const fs = require("fs");
const hf = require("@anush008/tokenizers");

async function build(vocabPath) {
  // Same pipeline as bert-base-uncased's tokenizer.json.
  const model = await hf.WordPiece.fromFile(vocabPath, {
    unkToken: "[UNK]", continuingSubwordPrefix: "##", maxInputCharsPerWord: 100,
  });
  const tok = new hf.Tokenizer(model);
  tok.setNormalizer(hf.bertNormalizer({
    cleanText: true, handleChineseChars: true, lowercase: true, // stripAccents: unset = lowercase
  }));
  tok.setPreTokenizer(hf.bertPreTokenizer());
  const cls = tok.tokenToId("[CLS]"), sep = tok.tokenToId("[SEP]");
  tok.setPostProcessor(hf.bertProcessing(["[SEP]", sep], ["[CLS]", cls]));
  tok.setDecoder(hf.wordPieceDecoder("##", true));
  tok.addSpecialTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  return tok;
}

async function main() {
  const [vocabPath, textsPath, maxLenArg] = process.argv.slice(2);
  if (!vocabPath || !textsPath) {
    console.error("usage: hf_wordpiece_ref.js <vocab.txt> <texts.json> [max_len]");
    process.exit(2);
  }
  const maxLen = Number(maxLenArg || 16);
  const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));
  const plain = await build(vocabPath);
  const fixed = await build(vocabPath);
  fixed.setTruncation(maxLen, { strategy: "LongestFirst" });
  fixed.setPadding({ maxLength: maxLen, padId: plain.tokenToId("[PAD]"), padToken: "[PAD]" });

  const normalizer = plain.getNormalizer();
  const out = [];
  for (const item of texts) {
    const [first, second] = Array.isArray(item) ? item : [item, null];
    const e = await plain.encode(first, second, { addSpecialTokens: false });
    const withSpecials = await plain.encode(first, second);
    const f = await fixed.encode(first, second);
    out.push({
      ids: e.getIds(),
      tokens: e.getTokens(),
      decoded: await plain.decode(withSpecials.getIds(), true),
      fixed: { ids: f.getIds(), mask: f.getAttentionMask(), type_ids: f.getTypeIds() },
      normalized: normalizer.normalizeString(first),
    });
  }
  process.stdout.write(JSON.stringify(out));
}

function codepoints() {
  const norm = hf.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true });
  const pre = hf.bertPreTokenizer();
  const out = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;  // not scalar values; cannot be in UTF-8
    const words = pre.preTokenizeString(norm.normalizeString("a" + String.fromCodePoint(cp) + "a"));
    out.push(words.map((w) => w[0]).join(" "));
  }
  process.stdout.write(JSON.stringify(out));
}

if (process.argv[2] === "--codepoints") codepoints();
else main().catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
