#!/usr/bin/env bash
# Fails if runtime/ or dvfs/ sources include torch headers, or the torch-free test binary links torch.
set -euo pipefail
src="$1"; bin="$2"
if grep -rEn '#include *[<"](torch|ATen|c10)/' "$src/runtime" "$src/dvfs" "$src/include" 2>/dev/null; then
  echo "torch header included in runtime/, dvfs/ or include/"; exit 1
fi
if ldd "$bin" | grep -E 'libtorch|libc10'; then
  echo "$bin links LibTorch"; exit 1
fi
echo "runtime is torch-free"
