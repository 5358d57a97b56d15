#!/usr/bin/python3
"""Float64 reference of Qwen3-ForcedAligner's forward pass, from our converted GGUF pair.

Written from the official model's description (QwenLM/Qwen3-ASR: the thinker of qwen3_forced_aligner
is the Qwen3-ASR thinker whose lm_head scores classify_num time classes; the toolkit takes
logits.argmax(-1) at every <timestamp> position, class * timestamp_segment_time = ms). The audio
side is qwen3asr_encoder.py's (imported, not copied); this file adds the Qwen3 decoder and the head.

Input sequence, as llama.cpp's mtmd builds it for the patched aligner:
  [<|audio_start|>, A projected encoder rows, <|audio_end|>, text ids...]
The audio rows replace the token embeddings there. Positions are plain 0..n-1: with audio and text
on one stream, the three M-RoPE sections all see the same position, which is NEOX rope.
Without --wav/--audio-embd the sequence is the text ids alone (to check the decoder by itself,
e.g. against unpatched llama.cpp on a plain qwen3 GGUF of the same weights).

Weights are read from the files with gguf-py and dequantized to the exact values stored (F32, F16,
BF16, Q8_0); every hyperparameter (layers, heads, RMSNorm eps, rope theta, timestamp id, segment)
comes from the text GGUF's metadata, so the reference also checks what the converter wrote.

Command (prints one JSON line on stdout):
  align --text T.gguf [--mmproj M.gguf --wav F.wav | --audio-embd E.f32] --ids 1,2,3
        [--out-logits L.f32] [--out-hidden H.f32]
    JSON: n_audio, n_positions, timestamp_token_id, segment_ms, and per <timestamp> position
    (pos, cls = argmax, ms = cls * segment_ms, margin = top1 - top2 logit). L.f32: logits rows at
    the timestamp positions [n_ts, n_cls]; H.f32: final-norm hidden rows at every position [n, H];
    each with a .json sidecar (rows, cols), as qwen3asr_encoder.py's save writes.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen3asr_encoder as enc  # noqa: E402  (mel, audio tower, GGUF loading, .f32 io)


def load_text(path):
    """Scalar metadata, the token strings (to find the audio markers) and every tensor, as float64."""
    import gguf
    kv, T = enc.load_gguf(path)
    tokens = gguf.GGUFReader(path).fields["tokenizer.ggml.tokens"].contents()
    return kv, T, tokens


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_neox(x, theta):
    """x [n, heads, d]: pairs (i, i + d/2) rotate by pos * theta^(-2i/d), pos = 0..n-1."""
    n, _, d = x.shape
    inv = theta ** (-np.arange(0, d // 2, dtype=np.float64) * 2.0 / d)
    ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def decoder(kv, T, x):
    """Qwen3 decoder on input embeddings x [n, H]; returns the final-norm hidden states [n, H]."""
    arch = kv["general.architecture"]
    n_layer = kv[f"{arch}.block_count"]
    n_head = kv[f"{arch}.attention.head_count"]
    n_kv = kv[f"{arch}.attention.head_count_kv"]
    hd = kv[f"{arch}.attention.key_length"]
    eps = kv[f"{arch}.attention.layer_norm_rms_epsilon"]
    theta = kv[f"{arch}.rope.freq_base"]
    n = x.shape[0]
    causal = np.triu(np.full((n, n), -np.inf), 1)
    h = x
    for il in range(n_layer):
        g = lambda name: T[f"blk.{il}.{name}.weight"]  # noqa: E731
        y = rms_norm(h, g("attn_norm"), eps)
        q = rms_norm((y @ g("attn_q").T).reshape(n, n_head, hd), g("attn_q_norm"), eps)
        k = rms_norm((y @ g("attn_k").T).reshape(n, n_kv, hd), g("attn_k_norm"), eps)
        v = (y @ g("attn_v").T).reshape(n, n_kv, hd)
        q, k = rope_neox(q, theta), rope_neox(k, theta)
        rep = n_head // n_kv  # query head j reads kv head j // rep
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        s = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + causal[None]
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", s, v).reshape(n, n_head * hd)
        h = h + o @ g("attn_output").T
        y = rms_norm(h, g("ffn_norm"), eps)
        gate = y @ g("ffn_gate").T
        h = h + ((gate / (1.0 + np.exp(-gate))) * (y @ g("ffn_up").T)) @ g("ffn_down").T
    return rms_norm(h, T["output_norm.weight"], eps)


def input_embeddings(T, tokens, ids, audio):
    """[<|audio_start|>, audio rows, <|audio_end|>, ids...], or the ids alone when audio is None."""
    emb = T["token_embd.weight"]
    text = emb[np.asarray(ids, dtype=np.int64)].reshape(len(ids), emb.shape[1])
    if audio is None:
        return text, list(ids)
    if audio.shape[1] != emb.shape[1]:
        raise SystemExit(f"audio rows are {audio.shape[1]} wide, the decoder {emb.shape[1]}")
    start, end = tokens.index("<|audio_start|>"), tokens.index("<|audio_end|>")
    x = np.concatenate([emb[start:start + 1], audio, emb[end:end + 1], text], axis=0)
    # The audio rows have no token id; -1 keeps them apart from any real id.
    return x, [start] + [-1] * audio.shape[0] + [end] + list(ids)


def align(kv, T, tokens, ids, audio):
    ts_id = kv["qwen3asr.aligner.timestamp_token_id"]
    seg = kv["qwen3asr.aligner.segment_ms"]
    x, seq = input_embeddings(T, tokens, ids, audio)
    hidden = decoder(kv, T, x)
    pos = [i for i, t in enumerate(seq) if t == ts_id]
    logits = hidden[pos] @ T["cls.output.weight"].T  # [n_ts, n_cls]
    top2 = np.sort(logits, axis=1)[:, -2:] if len(pos) else np.zeros((0, 2))
    cls = logits.argmax(axis=1) if len(pos) else np.zeros(0, dtype=np.int64)
    stamps = [dict(pos=p, cls=int(c), ms=int(c) * seg, margin=float(t[1] - t[0])) for p, c, t in zip(pos, cls, top2)]
    return hidden, logits, stamps, seg, ts_id


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("align")
    p.add_argument("--text", required=True, help="the aligner's text GGUF (ours)")
    p.add_argument("--mmproj", help="its mmproj GGUF, with --wav")
    p.add_argument("--wav", help="16 kHz mono s16 audio")
    p.add_argument("--audio-embd", help="projected audio rows [A, H] (.f32 + .json), instead of --mmproj/--wav")
    p.add_argument("--ids", required=True, help="the prompt's text token ids after <|audio_end|>, comma-separated")
    p.add_argument("--out-logits")
    p.add_argument("--out-hidden")
    a = ap.parse_args()

    kv, T, tokens = load_text(a.text)
    if "cls.output.weight" not in T:
        raise SystemExit(f"{a.text} has no cls.output.weight: not an aligner text GGUF")
    audio = None
    if a.audio_embd:
        audio = enc.load(a.audio_embd)[0].astype(np.float64)
    elif a.wav:
        if not a.mmproj:
            raise SystemExit("--wav needs --mmproj")
        mkv, mT = enc.load_gguf(a.mmproj)
        audio = enc.encode(mkv, mT, enc.log_mel(enc.read_wav(a.wav)))
    ids = [int(s) for s in a.ids.split(",") if s.strip()]
    hidden, logits, stamps, seg, ts_id = align(kv, T, tokens, ids, audio)
    if a.out_logits:
        enc.save(a.out_logits, logits.reshape(len(stamps), T["cls.output.weight"].shape[0]))
    if a.out_hidden:
        enc.save(a.out_hidden, hidden)
    n_audio = 0 if audio is None else int(audio.shape[0])
    print(json.dumps(dict(n_audio=n_audio, n_positions=int(hidden.shape[0]), timestamp_token_id=ts_id, segment_ms=seg,
                          n_cls=int(T["cls.output.weight"].shape[0]), timestamps=stamps)))


if __name__ == "__main__":
    main()
