#!/bin/bash
# Encoder speed: qwen3asr (this project) vs upstream qwen3a, same llama.cpp build, same random
# 0.6B-shaped f16 weights, CPU. Prints a markdown table of encode time per second of audio.
#
#   BIN=<llama.cpp build>/bin GGUF_PY=<llama.cpp>/gguf-py bench/encoder.sh [reps] [threads]
#
# Encode time = sum of the "mtmd batch encoding done in N ms" lines of one llama-mtmd-cli run
# (every audio entry of the clip), so model loading, prefill and generation are excluded.
set -euo pipefail
REPS=${1:-3}
THREADS=${2:-2}
: "${BIN:?set BIN to the llama.cpp bin directory}"
: "${GGUF_PY:?set GGUF_PY to llama.cpp/gguf-py}"
HERE=$(cd "$(dirname "$0")" && pwd)
REF=$HERE/../test/reference
OUT=${OUT:-$HERE/out}
mkdir -p "$OUT"
PY=/usr/bin/python3
export PYTHONPATH=$GGUF_PY

[ -f "$OUT/b06-asr.gguf" ] || $PY "$REF/make_mmproj.py" --shape 0.6b --dtype f16 --out "$OUT/b06-asr.gguf" --out-qwen3a "$OUT/b06-q3a.gguf"
[ -f "$OUT/text1024.gguf" ] || $PY "$REF/make_text_model.py" --n-embd 1024 --out "$OUT/text1024.gguf"

run() { # mmproj wav -> total encode ms
  "$BIN/llama-mtmd-cli" -m "$OUT/text1024.gguf" --mmproj "$1" --audio "$2" -p "<__media__>" \
      -n 1 --temp 0 -c 4096 -t "$THREADS" 2>&1 | awk '/mtmd batch encoding done in/ { s += $(NF-1) } END { print s }'
}

echo "| input | upstream qwen3a: encode ms (min of $REPS) | per s of audio | qwen3asr: encode ms (min of $REPS) | per s of audio | ours / upstream |"
echo "|---|---|---|---|---|---|"
for secs in 8 30 120; do
  wav=$OUT/bench-$secs.wav
  [ -f "$wav" ] || $PY "$REF/qwen3asr_encoder.py" wav --seconds "$secs" --out "$wav" > /dev/null
  up=(); us=()
  for ((i = 0; i < REPS; i++)); do  # interleaved, so load changes hit both sides alike
    up+=("$(run "$OUT/b06-q3a.gguf" "$wav")")
    us+=("$(run "$OUT/b06-asr.gguf" "$wav")")
  done
  u=$(printf '%s\n' "${up[@]}" | sort -n | head -1)
  o=$(printf '%s\n' "${us[@]}" | sort -n | head -1)
  awk -v s="$secs" -v u="$u" -v o="$o" -v ua="${up[*]}" -v oa="${us[*]}" 'BEGIN {
    printf "| %d s | %d (%s) | %.1f ms | %d (%s) | %.1f ms | %.2f |\n", s, u, ua, u / s, o, oa, o / s, o / u }'
done
