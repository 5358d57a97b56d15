#!/bin/bash
# Word timestamps (issue 18): what the forced aligner adds to a transcription, side by side.
#
#   BIN=<llama.cpp build>/bin bench/align.sh [reps] [threads]
#
# On 60 s of espeak speech, interleaved runs of
#   asr        qwen3asr --align off: 0.6B-shaped synthetic ASR checkpoint (random weights; text and
#              mmproj Q8_0 as the default `0.6b` alias), --no-guard, every window generating 3.5
#              tokens per second of audio (QWEN3ASR_FIXED_TOKENS_PER_SECOND);
#   f16, q8_0  the aligner's own time on the same windows (bench/align-cost.mjs: the pipeline's
#              windows and startAligner, the words of bench/speech.txt at 2.5 per second of speech,
#              the server's start included), a 0.6B-shaped synthetic Qwen3-ForcedAligner converted
#              f16 (what the catalog's `aligner` is) or q8_0.
# A synthetic ASR model writes no words, so `--align on` would have nothing to align: its end to
# end time is asr + aligner (the CLI aligns after transcribing, one after the other). The aligner
# answers random classes, but its work (encoder, one prefill over audio + words, the head at every
# <timestamp>) is the real model's: the cost does not depend on the weights.
set -euo pipefail
# (npm run build first: align-cost.mjs runs dist/)
REPS=${1:-3}
THREADS=${2:-2}
: "${BIN:?set BIN to the llama.cpp bin directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/..
OUT=${OUT:-$HERE/out}
mkdir -p "$OUT"
Q=(node "$ROOT/bin/qwen3asr.js")

min() { printf '%s\n' "$@" | sort -n | head -1; }

[ -f "$OUT/ckpt06/config.json" ] || "${Q[@]}" convert --synthetic 0.6b -o "$OUT/ckpt06" > /dev/null
[ -f "$OUT/asr-q8/ckpt06-text-q8_0.gguf" ] || "${Q[@]}" convert "$OUT/ckpt06" -o "$OUT/asr-q8" --outtype q8_0 > /dev/null
[ -f "$OUT/al06/config.json" ] || "${Q[@]}" convert --synthetic 0.6b --aligner -o "$OUT/al06" > /dev/null
for t in f16 q8_0; do
  ls "$OUT/al-$t/"*-text-"$t".gguf > /dev/null 2>&1 || "${Q[@]}" convert "$OUT/al06" -o "$OUT/al-$t" --outtype "$t" > /dev/null
done
if [ ! -f "$OUT/s60.wav" ]; then
  espeak-ng -s 150 -w "$OUT/raw.wav" "$(cat "$HERE/speech.txt")"
  ffmpeg -loglevel error -y -i "$OUT/raw.wav" -t 60 -ar 16000 -ac 1 -c:a pcm_f32le "$OUT/s60.wav"
fi
ASR=(--model "$(ls "$OUT"/asr-q8/*-text-q8_0.gguf)" --mmproj "$(ls "$OUT"/asr-q8/*-mmproj-q8_0.gguf)")
declare -A ALIGNER=([f16]="$(ls "$OUT"/al-f16/*-text-f16.gguf)" [q8_0]="$(ls "$OUT"/al-q8_0/*-text-q8_0.gguf)")
# One run of a config, its wall seconds printed.
run_one() {
  if [ "$1" = asr ]; then
    local s
    s=$(date +%s.%N)
    QWEN3ASR_BIN_DIR=$BIN QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 "${Q[@]}" "$OUT/s60.wav" -q --no-guard --align off -f srt -o - \
      --threads "$THREADS" "${ASR[@]}" > /dev/null
    echo "$(date +%s.%N) - $s" | bc | xargs printf '%.2f'
  else
    QWEN3ASR_BIN_DIR=$BIN node "$HERE/align-cost.mjs" "${ALIGNER[$1]}" "$OUT/s60.wav" "$THREADS" | sed 's/.*"seconds":\([0-9.]*\).*/\1/'
  fi
}
declare -A T=([asr]='' [f16]='' [q8_0]='')
for ((i = 0; i < REPS; i++)); do
  for c in asr f16 q8_0; do T[$c]+=" $(run_one "$c")"; done
done
a=$(min ${T[asr]})
echo "| run | wall s, min (runs) | s per audio s | end to end with it, vs asr alone |"
echo "|---|---|---|---|"
for c in asr f16 q8_0; do
  m=$(min ${T[$c]})
  awk -v c="$c" -v m="$m" -v a="$a" -v all="${T[$c]}" \
    'BEGIN { printf "| %s | %.2f (%s) | %.3f | %s |\n", c, m, all, m / 60, c == "asr" ? "1.00×" : sprintf("%.2f×", (a + m) / a) }'
done
