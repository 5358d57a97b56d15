#!/bin/bash
# Upstream llama.cpp as its docs run it (one llama-mtmd-cli call on the whole file, its qwen3a encoder) against
# qwen3asr's default (warm llama-server, one request per window, our encoder), same files, interleaved (issue 19).
#
#   UPSTREAM_BIN=<pristine llama.cpp v0.5.0 build>/bin BIN=<our build>/bin \
#     bench/upstream.sh TEXT.gguf MMPROJ.gguf AUDIO.wav [reps] [threads]
#
# UPSTREAM_BIN: a build of the unpatched v0.5.0 tree (not committed, not shipped: built by hand for the comparison,
# see bench/RESULTS.md). Both sides generate exactly 3.5 tokens per second of audio (--ignore-eos -n for upstream,
# QWEN3ASR_FIXED_TOKENS_PER_SECOND for qwen3asr), so random weights do the work real speech would.
set -euo pipefail
TEXT=${1:?text GGUF}; MMPROJ=${2:?mmproj GGUF}; AUDIO=${3:?audio}
REPS=${4:-3}; THREADS=${5:-2}
: "${UPSTREAM_BIN:?set UPSTREAM_BIN to a pristine llama.cpp v0.5.0 bin directory}"
: "${BIN:?set BIN to the bin directory of our patched build}"
HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_AUDIO=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$AUDIO")
N=$(awk -v s="$SECONDS_AUDIO" 'BEGIN { printf "%d", (s * 3.5 == int(s * 3.5)) ? s * 3.5 : int(s * 3.5) + 1 }')
now() { date +%s.%N; }
min() { printf '%s\n' "$@" | sort -n | head -1; }
up=(); us=()
for ((i = 0; i < REPS; i++)); do
  s=$(now)
  "$UPSTREAM_BIN/llama-mtmd-cli" -m "$TEXT" --mmproj "$MMPROJ" --audio "$AUDIO" -p "Transcribe the audio." \
    -n "$N" --ignore-eos --temp 0 -t "$THREADS" -c 4096 > /dev/null 2>&1
  up+=("$(echo "$(now) - $s" | bc | xargs printf '%.2f')")
  s=$(now)
  QWEN3ASR_BIN_DIR=$BIN QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 node "$HERE/../bin/qwen3asr.js" "$AUDIO" -q --no-guard \
    -f txt -o - --threads "$THREADS" --model "$TEXT" --mmproj "$MMPROJ" > /dev/null
  us+=("$(echo "$(now) - $s" | bc | xargs printf '%.2f')")
done
u=$(min "${up[@]}"); o=$(min "${us[@]}")
runs_up="${up[*]}"; runs_us="${us[*]}"
awk -v f="$(basename "$TEXT") + $(basename "$MMPROJ")" -v s="$SECONDS_AUDIO" -v u="$u" -v o="$o" -v ru="$runs_up" -v ro="$runs_us" \
  'BEGIN { printf "| %s | %.0f s | %.2f (%s) | %.3f | %.2f (%s) | %.3f | %.2f |\n", f, s, u, ru, u / s, o, ro, o / s, o / u }'
