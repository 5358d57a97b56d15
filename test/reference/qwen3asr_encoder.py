#!/usr/bin/python3
"""PyTorch/numpy reference of the Qwen3-ASR feature extractor and audio tower.

Written from the description of the official model (QwenLM/Qwen3-ASR, modeling_qwen3_asr.py and
transformers' WhisperFeatureExtractor); float64 throughout, so it serves as ground truth for the
float32 llama.cpp encoder. Attention uses the windows of the official flash-attention-2 / vLLM paths
(blocks of 13 * n_window_infer / (2 * n_window) = 104 tokens).

Weights come from a qwen3asr or qwen3a mmproj GGUF (read with gguf-py, dequantized to the exact values
stored: F32, F16, BF16, Q8_0), so the reference also checks the file format: anything the converter
writes in another layout shows up as a mismatch. The position table is computed here, as the official
model does; the file's copy is ignored, as the encoder ignores it.

Commands (print one JSON line on stdout):
  mel     --wav F --out M.f32            log-mel [128, T] (mel-major) + M.f32.json
  embd    --mmproj G --wav F --out E.f32 [--mel M.f32]   projected embeddings [A, out_dim] + E.f32.json
  compare --a X.f32 --b Y.f32 [--rows N] [--rows-a-map qwen3a]  max abs diff / max |b|
  wav     --seconds S --out F.wav [--seed N]   deterministic 16 kHz mono 16-bit test signal
"""
import argparse
import json
import math
import sys
import wave

import numpy as np

SR, N_FFT, HOP, N_MEL = 16000, 400, 160, 128


# ---------------------------------------------------------------- audio io

def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == SR and w.getnchannels() == 1 and w.getsampwidth() == 2, "need 16 kHz mono s16"
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return x.astype(np.float64) / 32768.0  # what miniaudio's s16 -> f32 conversion does


def write_wav(path, seconds, seed):
    n = int(round(seconds * SR))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for k in range(6):  # a few gliding tones plus noise, with a slow envelope
        f0 = rng.uniform(100, 3000)
        x += rng.uniform(0.05, 0.15) * np.sin(2 * np.pi * (f0 * t + rng.uniform(-50, 50) * t * t) + rng.uniform(0, 6.3))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t)
    x += 0.01 * rng.standard_normal(n)
    q = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(q.tobytes())
    return n


# ---------------------------------------------------------------- features

def hz_to_mel(f):  # slaney
    f = np.asarray(f, dtype=np.float64)
    mel = 3.0 * f / 200.0
    log = f >= 1000.0
    mel = np.where(log, 15.0 + np.log(np.maximum(f, 1e-12) / 1000.0) * (27.0 / np.log(6.4)), mel)
    return mel


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f = 200.0 * m / 3.0
    log = m >= 15.0
    return np.where(log, 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0)), f)


def mel_filters():
    """[201, 128] slaney-scale, slaney-normalized triangles from 0 to 8 kHz."""
    fft_freqs = np.linspace(0, SR // 2, 1 + N_FFT // 2)
    mels = np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), N_MEL + 2)
    ff = mel_to_hz(mels)
    diff = np.diff(ff)
    slopes = ff[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    fb *= (2.0 / (ff[2:N_MEL + 2] - ff[:N_MEL]))[None, :]
    return fb


def log_mel(x):
    """WhisperFeatureExtractor for one clip, no padding: [128, floor(N/160)]."""
    x = np.asarray(x, dtype=np.float64)
    xp = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n_frames_stft = 1 + (len(xp) - N_FFT) // HOP
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames_stft)[:, None]
    spec = np.fft.rfft(xp[idx] * win[None, :], axis=1)
    power = (spec.real ** 2 + spec.imag ** 2)[:-1]  # drop the last frame
    mel = power @ mel_filters()  # [T, 128]
    lm = np.log10(np.maximum(mel, 1e-10))
    lm = np.maximum(lm, lm.max() - 8.0)
    return ((lm + 4.0) / 4.0).T  # [128, T]


# ---------------------------------------------------------------- encoder

def load_gguf(path):
    import gguf
    r = gguf.GGUFReader(path)
    kv = {}
    for f in r.fields.values():
        if f.types and f.types[0] in (gguf.GGUFValueType.UINT32, gguf.GGUFValueType.INT32, gguf.GGUFValueType.FLOAT32):
            kv[f.name] = f.parts[f.data[0]][0].item()
        elif f.types and f.types[0] == gguf.GGUFValueType.STRING:
            kv[f.name] = bytes(f.parts[f.data[0]]).decode()
    def values(t):  # the exact values the file stores, whatever its type (F32, F16, BF16, Q8_0)
        raw = t.data if t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) \
            else gguf.quants.dequantize(t.data, t.tensor_type)
        return np.array(raw, dtype=np.float64).reshape([int(v) for v in reversed(t.shape)])
    T = {t.name: values(t) for t in r.tensors}
    return kv, T


def sinusoids(length, channels, max_timescale=10000):
    """The official SinusoidsPositionEmbedding (a non-persistent buffer: not in the checkpoint), float32."""
    import torch
    log_timescale_increment = np.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2, dtype=torch.float32))
    scaled_time = torch.arange(length)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1).to(torch.float64)


def conv_len(n):
    for _ in range(3):
        n = (n - 1) // 2 + 1
    return n


def n_tokens(n_frames, n_window=50):
    chunk = 2 * n_window
    q, r = divmod(n_frames, chunk)
    return q * conv_len(chunk) + (conv_len(r) if r else 0)


def encode(kv, T, mel):
    import torch
    import torch.nn.functional as F
    torch.set_default_dtype(torch.float64)
    g = lambda n: torch.from_numpy(T[n])

    assert kv["clip.audio.projector_type"] in ("qwen3asr", "qwen3a"), kv.get("clip.audio.projector_type")
    # upstream's qwen3a files lack them: the released checkpoints' values
    n_window = kv.get("clip.audio.n_window", 50)
    n_window_infer = kv.get("clip.audio.n_window_infer", 800)
    n_head = kv["clip.audio.attention.head_count"]
    n_layer = kv["clip.audio.block_count"]
    eps = kv["clip.audio.attention.layer_norm_epsilon"]
    d = kv["clip.audio.embedding_length"]

    x = torch.from_numpy(mel)  # [128, T]
    n_frames = x.shape[1]
    chunk = 2 * n_window
    # chunks of `chunk` frames, the last one partial; zero-pad to the longest chunk
    lens = [chunk] * (n_frames // chunk) + ([n_frames % chunk] if n_frames % chunk else [])
    longest = max(lens)
    chunks = torch.zeros(len(lens), 1, N_MEL, longest)
    for i, L in enumerate(lens):
        chunks[i, 0, :, :L] = x[:, i * chunk:i * chunk + L]

    h = chunks
    for k in (1, 2, 3):
        w = g(f"a.conv2d.{k}.weight")  # [C_out, C_in, 3, 3]
        b = g(f"a.conv2d.{k}.bias").reshape(-1)
        h = F.gelu(F.conv2d(h, w, b, stride=2, padding=1))  # exact erf GELU
    n, c, f, t = h.shape  # [chunks, C, 16, t]
    h = h.permute(0, 3, 1, 2).reshape(n, t, c * f)  # feature = c * 16 + f
    h = h @ g("a.conv_out.weight").T  # no bias
    h = h + sinusoids(t, d)[None]  # rows restart per chunk; any table in the file is not used

    # keep each chunk's valid frames and concatenate: [A, d]
    h = torch.cat([h[i, :conv_len(L)] for i, L in enumerate(lens)], 0)
    A = h.shape[0]
    assert A == n_tokens(n_frames, n_window)

    win = conv_len(longest) * (n_window_infer // chunk)
    bounds = [(s, min(s + win, A)) for s in range(0, A, win)]
    hd = d // n_head

    def ln(v, p):
        return F.layer_norm(v, (d,), g(p + ".weight"), g(p + ".bias"), eps)

    def lin(v, p):
        return v @ g(p + ".weight").T + g(p + ".bias")

    for il in range(n_layer):
        p = f"a.blk.{il}."
        r = h
        y = ln(h, p + "ln1")
        q = lin(y, p + "attn_q").reshape(A, n_head, hd).transpose(0, 1)
        k = lin(y, p + "attn_k").reshape(A, n_head, hd).transpose(0, 1)
        v = lin(y, p + "attn_v").reshape(A, n_head, hd).transpose(0, 1)
        o = torch.empty_like(q)
        for s, e in bounds:  # block-diagonal, bidirectional
            att = torch.softmax(q[:, s:e] @ k[:, s:e].transpose(1, 2) / math.sqrt(hd), dim=-1)
            o[:, s:e] = att @ v[:, s:e]
        h = r + lin(o.transpose(0, 1).reshape(A, d), p + "attn_out")
        r = h
        y = ln(h, p + "ln2")
        h = r + lin(F.gelu(lin(y, p + "ffn_up")), p + "ffn_down")

    h = ln(h, "a.post_ln")
    h = lin(F.gelu(lin(h, "mm.a.mlp.1")), "mm.a.mlp.2")
    return h.numpy()


# ---------------------------------------------------------------- io helpers

def save(path, arr, **extra):
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    arr.tofile(path)
    with open(path + ".json", "w") as f:
        json.dump(dict(rows=arr.shape[0], cols=arr.shape[1], dtype="float32", **extra), f)


def load(path):
    with open(path + ".json") as f:
        meta = json.load(f)
    return np.fromfile(path, dtype=np.float32).reshape(meta["rows"], meta["cols"]), meta


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wav"); p.add_argument("--seconds", type=float, required=True); p.add_argument("--out", required=True); p.add_argument("--seed", type=int, default=7)
    p = sub.add_parser("mel"); p.add_argument("--wav", required=True); p.add_argument("--out", required=True)
    p = sub.add_parser("embd"); p.add_argument("--mmproj", required=True); p.add_argument("--wav"); p.add_argument("--mel"); p.add_argument("--out", required=True)
    p = sub.add_parser("compare"); p.add_argument("--a", required=True); p.add_argument("--b", required=True)
    p.add_argument("--rows", type=int, help="compare only the first N rows of both")
    p.add_argument("--a-windows", type=int, nargs=2, metavar=("KEEP", "STRIDE"),
                   help="take from A the first KEEP rows of every STRIDE rows (e.g. upstream's per-window padding)")
    a = ap.parse_args()

    if a.cmd == "wav":
        n = write_wav(a.out, a.seconds, a.seed)
        print(json.dumps(dict(samples=n, frames=n // HOP, tokens=n_tokens(n // HOP))))
    elif a.cmd == "mel":
        m = log_mel(read_wav(a.wav))
        save(a.out, m)
        print(json.dumps(dict(rows=m.shape[0], cols=m.shape[1])))
    elif a.cmd == "embd":
        kv, T = load_gguf(a.mmproj)
        mel = load(a.mel)[0].astype(np.float64) if a.mel else log_mel(read_wav(a.wav))
        e = encode(kv, T, mel)
        save(a.out, e)
        print(json.dumps(dict(rows=e.shape[0], cols=e.shape[1], frames=mel.shape[1])))
    elif a.cmd == "compare":
        A, _ = load(a.a)
        B, _ = load(a.b)
        if a.a_windows:
            keep, stride = a.a_windows
            A = np.concatenate([A[s:s + keep] for s in range(0, A.shape[0], stride)], 0)
        rows = a.rows if a.rows is not None else None
        if rows is not None:
            A, B = A[:rows], B[:rows]
        res = dict(rows_a=int(A.shape[0]), rows_b=int(B.shape[0]), cols_a=int(A.shape[1]), cols_b=int(B.shape[1]))
        if A.shape == B.shape:
            diff = float(np.abs(A.astype(np.float64) - B).max())
            scale = float(np.abs(B).max())
            res.update(max_abs_diff=diff, max_abs_b=scale, rel=diff / scale if scale else float("inf"))
        print(json.dumps(res))


if __name__ == "__main__":
    main()
