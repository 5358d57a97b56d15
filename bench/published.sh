#!/bin/bash
# The published files (issue 15): what ggml-org's Q8_0 pair costs next to the former default.
#
#   BIN=<llama.cpp build>/bin LLAMA=<llama.cpp v0.5.0 source> bench/published.sh [reps] [threads]
#
# 1. Encoder time, F16 vs Q8_0 mmproj, 0.6B and 1.7B shapes (random weights from
#    test/reference/make_mmproj.py; Q8_0 in upstream's layout: Q8_0 matrices, F16 conv kernels),
#    8 s and 30 s of audio: the sum of the "mtmd batch encoding done in N ms" lines of one
#    llama-mtmd-cli run, min of REPS interleaved runs.
# 2. End to end, qwen3asr on 60 s of espeak speech, 0.6B synthetic checkpoint, --no-guard, every
#    window generating 3.5 tokens per second (QWEN3ASR_FIXED_TOKENS_PER_SECOND), interleaved:
#      before   our text Q4_K_M + our mmproj F16 (the former default's formats),
#      0.6b     upstream's converter, text Q8_0 + mmproj Q8_0 (what the `0.6b` alias downloads),
#      q4_k_m   that Q8_0 text requantized to Q4_K_M + the same mmproj (the `0.6b-q4_k_m` alias).
set -euo pipefail
REPS=${1:-3}
THREADS=${2:-2}
: "${BIN:?set BIN to the llama.cpp bin directory}"
: "${LLAMA:?set LLAMA to the llama.cpp v0.5.0 source (for gguf-py and convert_hf_to_gguf.py)}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/..
REF=$ROOT/test/reference
OUT=${OUT:-$HERE/out}
mkdir -p "$OUT"
PY=/usr/bin/python3
export PYTHONPATH=$LLAMA/gguf-py

min() { printf '%s\n' "$@" | sort -n | head -1; }

encode_ms() { # text mmproj wav -> total encode ms
  "$BIN/llama-mtmd-cli" -m "$1" --mmproj "$2" --audio "$3" -p "<__media__>" \
      -n 1 --temp 0 -c 4096 -t "$THREADS" 2>&1 | awk '/mtmd batch encoding done in/ { s += $(NF-1) } END { print s }'
}

echo "## 1. Encoder: F16 vs Q8_0 mmproj (min of $REPS, ms)"
echo
echo "| shape | audio | F16 | Q8_0 | Q8_0 / F16 |"
echo "|---|---|---|---|---|"
for shape in 0.6b 1.7b; do
  width=$([ "$shape" = 0.6b ] && echo 1024 || echo 2048)
  for dt in f16 q8_0; do
    [ -f "$OUT/enc-$shape-$dt.gguf" ] || $PY "$REF/make_mmproj.py" --shape "$shape" --dtype "$dt" --out "$OUT/enc-$shape-$dt.gguf" > /dev/null
  done
  [ -f "$OUT/text$width.gguf" ] || $PY "$REF/make_text_model.py" --n-embd "$width" --out "$OUT/text$width.gguf" > /dev/null
  for secs in 8 30; do
    wav=$OUT/bench-$secs.wav
    [ -f "$wav" ] || $PY "$REF/qwen3asr_encoder.py" wav --seconds "$secs" --out "$wav" > /dev/null
    f=(); q=()
    for ((i = 0; i < REPS; i++)); do
      f+=("$(encode_ms "$OUT/text$width.gguf" "$OUT/enc-$shape-f16.gguf" "$wav")")
      q+=("$(encode_ms "$OUT/text$width.gguf" "$OUT/enc-$shape-q8_0.gguf" "$wav")")
    done
    a=$(min "${f[@]}"); b=$(min "${q[@]}")
    awk -v s="$shape" -v t="$secs" -v a="$a" -v b="$b" -v fa="${f[*]}" -v qa="${q[*]}" \
      'BEGIN { printf "| %s | %d s | %d (%s) | %d (%s) | %.2f |\n", s, t, a, fa, b, qa, b / a }'
  done
done

echo
echo "## 2. End to end, 60 s, 0.6B (min of $REPS, wall s)"
echo
CK=$OUT/ckpt06
[ -f "$CK/config.json" ] || node "$ROOT/bin/qwen3asr.js" convert --synthetic 0.6b -o "$CK" > /dev/null
[ -f "$OUT/ours/ckpt06-text-q4_k_m.gguf" ] || QWEN3ASR_LLAMA_QUANTIZE=$BIN/llama-quantize \
  node "$ROOT/bin/qwen3asr.js" convert "$CK" -o "$OUT/ours" --quantize q4_k_m > /dev/null
up() { $PY "$REF/upstream_convert.py" --llama-cpp "$LLAMA" --tokenizer-pre qwen2 -- "$CK" "$@" > /dev/null 2>&1; }
[ -f "$OUT/up/Qwen3-ASR-0.6B-Q8_0.gguf" ] || { mkdir -p "$OUT/up"; up --outtype q8_0 --outfile "$OUT/up/Qwen3-ASR-0.6B-Q8_0.gguf"; }
[ -f "$OUT/up/mmproj-Qwen3-ASR-0.6B-Q8_0.gguf" ] || up --mmproj --outtype q8_0 --outfile "$OUT/up/mmproj-Qwen3-ASR-0.6B-Q8_0.gguf"
[ -f "$OUT/up/Qwen3-ASR-0.6B-Q4_K_M.gguf" ] || "$BIN/llama-quantize" --allow-requantize \
  "$OUT/up/Qwen3-ASR-0.6B-Q8_0.gguf" "$OUT/up/Qwen3-ASR-0.6B-Q4_K_M.gguf" q4_k_m > /dev/null 2>&1
if [ ! -f "$OUT/s60.wav" ]; then
  espeak-ng -s 150 -w "$OUT/raw.wav" "$(cat "$HERE/speech.txt")"
  ffmpeg -loglevel error -y -i "$OUT/raw.wav" -t 60 -ar 16000 -ac 1 -c:a pcm_f32le "$OUT/s60.wav"
fi
declare -A TEXT=([before]="$OUT/ours/ckpt06-text-q4_k_m.gguf" [0.6b]="$OUT/up/Qwen3-ASR-0.6B-Q8_0.gguf" [q4_k_m]="$OUT/up/Qwen3-ASR-0.6B-Q4_K_M.gguf")
declare -A MMPROJ=([before]="$OUT/ours/ckpt06-mmproj-f16.gguf" [0.6b]="$OUT/up/mmproj-Qwen3-ASR-0.6B-Q8_0.gguf" [q4_k_m]="$OUT/up/mmproj-Qwen3-ASR-0.6B-Q8_0.gguf")
declare -A T
for ((i = 0; i < REPS; i++)); do
  for c in before 0.6b q4_k_m; do
    s=$(date +%s.%N)
    QWEN3ASR_BIN_DIR=$BIN QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 node "$ROOT/bin/qwen3asr.js" "$OUT/s60.wav" -q --no-guard \
      -f txt -o - --threads "$THREADS" --model "${TEXT[$c]}" --mmproj "${MMPROJ[$c]}" > /dev/null
    T[$c]="${T[$c]:-}${T[$c]:+ }$(echo "$(date +%s.%N) - $s" | bc | xargs printf '%.2f')"
  done
done
echo "| config | text + mmproj | wall s (runs) | RTF | vs before |"
echo "|---|---|---|---|---|"
b=$(min ${T[before]})
for c in before 0.6b q4_k_m; do
  m=$(min ${T[$c]})
  awk -v c="$c" -v f="$(basename "${TEXT[$c]}") + $(basename "${MMPROJ[$c]}")" -v m="$m" -v b="$b" -v all="${T[$c]}" \
    'BEGIN { printf "| %s | %s | %.2f (%s) | %.3f | %.2f× |\n", c, f, m, all, m / 60, m / b }'
done
