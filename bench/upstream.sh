#!/bin/bash
# Upstream llama.cpp as its docs run it (one llama-mtmd-cli call on the whole file, its qwen3a encoder) against
# qwen3asr's default (warm llama-server, one request per window, our encoder), same files, interleaved (issue 19).
#
#   UPSTREAM_BIN=<pristine llama.cpp v0.5.0 build>/bin BIN=<our build>/bin \
#     bench/upstream.sh TEXT.gguf MMPROJ.gguf AUDIO.wav [reps] [threads]
#
# BEFORE (optional): a third column, qwen3asr run as before a change, interleaved with the other two: the words of BEFORE
# go in front of its command (environment assignments, then `--` and CLI options), e.g.
#   BEFORE='QWEN3ASR_KEEP_Q8_ENCODER=1 -- --jobs 1'   (issue 19: the encoder's Q8_0 matrices and one slot, as before)
#   BEFORE='QWEN3ASR_BIN_DIR=<an earlier build>/bin --'   (its assignments come last, so they override BIN)
# BEFORE_CLI (optional): the bin/qwen3asr.js of another checkout (built with `npm run build`) for that column, e.g. a
# `git worktree` of the commit before a change to the TypeScript side.
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
# Upstream keeps the whole file in one context: 12.5 audio tokens per second (a 100-frame chunk gives 13 tokens), the
# generated tokens and the prompt, rounded up to 1024.
CTX=$(awk -v s="$SECONDS_AUDIO" -v n="$N" 'BEGIN { c = int(s * 13.5) + n + 256; printf "%d", (int(c / 1024) + 1) * 1024 }')
now() { date +%s.%N; }
min() { printf '%s\n' "$@" | sort -n | head -1; }
before_env=(); before_args=()
if [[ -n "${BEFORE:-}${BEFORE_CLI:-}" ]]; then
  read -r -a words <<< "${BEFORE:-}"; seen=0
  for w in "${words[@]}"; do
    if [[ $w == -- ]]; then seen=1; elif ((seen)); then before_args+=("$w"); else before_env+=("$w"); fi
  done
fi
ours() { # CLI ENV... -- ARGS...
  local cli=$1 e=(); shift; while [[ $1 != -- ]]; do e+=("$1"); shift; done; shift
  env QWEN3ASR_BIN_DIR="$BIN" QWEN3ASR_FIXED_TOKENS_PER_SECOND=3.5 "${e[@]}" node "$cli" "$AUDIO" -q \
    --no-guard -f txt -o - --threads "$THREADS" --model "$TEXT" --mmproj "$MMPROJ" "$@" > /dev/null
}
up=(); us=(); bs=()
for ((i = 0; i < REPS; i++)); do
  s=$(now)
  "$UPSTREAM_BIN/llama-mtmd-cli" -m "$TEXT" --mmproj "$MMPROJ" --audio "$AUDIO" -p "Transcribe the audio." \
    -n "$N" --ignore-eos --temp 0 -t "$THREADS" -c "$CTX" > /dev/null 2>&1
  up+=("$(echo "$(now) - $s" | bc | xargs printf '%.2f')")
  s=$(now)
  ours "$HERE/../bin/qwen3asr.js" --
  us+=("$(echo "$(now) - $s" | bc | xargs printf '%.2f')")
  if [[ -n "${BEFORE:-}${BEFORE_CLI:-}" ]]; then
    s=$(now)
    ours "${BEFORE_CLI:-$HERE/../bin/qwen3asr.js}" "${before_env[@]}" -- "${before_args[@]}"
    bs+=("$(echo "$(now) - $s" | bc | xargs printf '%.2f')")
  fi
done
u=$(min "${up[@]}"); o=$(min "${us[@]}")
runs_up="${up[*]}"; runs_us="${us[*]}"
awk -v f="$(basename "$TEXT") + $(basename "$MMPROJ")" -v s="$SECONDS_AUDIO" -v u="$u" -v o="$o" -v ru="$runs_up" -v ro="$runs_us" \
  'BEGIN { printf "| %s | %.0f s | %.2f (%s) | %.3f | %.2f (%s) | %.3f | %.2f |", f, s, u, ru, u / s, o, ro, o / s, o / u }'
if [[ -n "${BEFORE:-}${BEFORE_CLI:-}" ]]; then
  b=$(min "${bs[@]}")
  awk -v s="$SECONDS_AUDIO" -v u="$u" -v b="$b" -v rb="${bs[*]}" 'BEGIN { printf " %.2f (%s) | %.3f | %.2f |", b, rb, b / s, b / u }'
fi
echo
