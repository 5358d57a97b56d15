#!/usr/bin/python3
"""Write random Qwen3-ASR audio-tower weights as mmproj GGUFs.

The same weights go to up to two files:
  --out       projector "qwen3asr" (this project's format, see README "Model format (mmproj)")
  --out-qwen3a projector "qwen3a" (upstream llama.cpp's format), for side-by-side tests
stored as --dtype says (f32, f16, bf16, or q8_0 in upstream's layout).

Run with Debian's python and the llama.cpp tree's gguf-py:
  PYTHONPATH=<llama.cpp>/gguf-py /usr/bin/python3 test/reference/make_mmproj.py --shape tiny --out t.gguf
"""
import argparse

import numpy as np
import gguf

SHAPES = {
    # d_model, heads, ffn, layers, conv channels, output dim
    "tiny": dict(d_model=64, heads=4, ffn=128, layers=2, ds=32, out=64),
    "0.6b": dict(d_model=896, heads=14, ffn=3584, layers=18, ds=480, out=1024),
    "1.7b": dict(d_model=1024, heads=16, ffn=4096, layers=24, ds=480, out=2048),
}
N_MEL = 128
N_WINDOW = 50
N_WINDOW_INFER = 800
MAX_SOURCE_POSITIONS = 1500
CONV_CHUNKSIZE = 500


def sinusoids(length, channels, interleaved=False):
    """The official SinusoidsPositionEmbedding table [length, channels] (float32 like torch)."""
    half = channels // 2
    inc = np.log(10000.0) / (half - 1)
    inv = np.exp(-inc * np.arange(half, dtype=np.float32)).astype(np.float32)
    t = (np.arange(length, dtype=np.float32)[:, None] * inv[None, :]).astype(np.float32)
    if interleaved:  # the seed converter's (wrong) layout: the encoder must not read it
        out = np.zeros((length, channels), dtype=np.float32)
        out[:, 0::2] = np.sin(t)
        out[:, 1::2] = np.cos(t)
        return out
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def make_weights(shape, seed):
    """Official checkpoint names (without thinker.audio_tower.) and PyTorch shapes."""
    s = SHAPES[shape]
    rng = np.random.default_rng(seed)
    d, ds, ffn = s["d_model"], s["ds"], s["ffn"]

    def w(*shp, fan_in):
        return (rng.standard_normal(shp) / np.sqrt(fan_in)).astype(np.float32)

    def b(n, scale=0.02):
        return (rng.standard_normal(n) * scale).astype(np.float32)

    def ln(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32), b(n, 0.05)

    W = {}
    W["conv2d1.weight"] = w(ds, 1, 3, 3, fan_in=9)
    W["conv2d1.bias"] = b(ds)
    W["conv2d2.weight"] = w(ds, ds, 3, 3, fan_in=9 * ds)
    W["conv2d2.bias"] = b(ds)
    W["conv2d3.weight"] = w(ds, ds, 3, 3, fan_in=9 * ds)
    W["conv2d3.bias"] = b(ds)
    W["conv_out.weight"] = w(d, ds * 16, fan_in=ds * 16)
    for i in range(s["layers"]):
        p = f"layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            W[p + f"self_attn.{n}.weight"] = w(d, d, fan_in=d)
            W[p + f"self_attn.{n}.bias"] = b(d)
        W[p + "self_attn_layer_norm.weight"], W[p + "self_attn_layer_norm.bias"] = ln(d)
        W[p + "fc1.weight"] = w(ffn, d, fan_in=d)
        W[p + "fc1.bias"] = b(ffn)
        W[p + "fc2.weight"] = w(d, ffn, fan_in=ffn)
        W[p + "fc2.bias"] = b(d)
        W[p + "final_layer_norm.weight"], W[p + "final_layer_norm.bias"] = ln(d)
    W["ln_post.weight"], W["ln_post.bias"] = ln(d)
    W["proj1.weight"] = w(d, d, fan_in=d)
    W["proj1.bias"] = b(d)
    W["proj2.weight"] = w(s["out"], d, fan_in=d)
    W["proj2.bias"] = b(s["out"])
    return W


def gguf_name(name):
    """Official name -> GGUF name, as upstream llama.cpp's Qwen3ASRMmprojModel maps it."""
    if name.startswith("conv2d"):
        return f"a.conv2d.{name[6]}.{name.split('.')[-1]}"
    if name.startswith("conv_out."):
        return "a.conv_out.weight"
    if name.startswith("ln_post."):
        return "a.post_ln." + name.split(".")[-1]
    if name.startswith("proj1."):
        return "mm.a.mlp.1." + name.split(".")[-1]
    if name.startswith("proj2."):
        return "mm.a.mlp.2." + name.split(".")[-1]
    parts = name.split(".")
    i, rest = parts[1], ".".join(parts[2:])
    m = {
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.out_proj": "attn_out", "self_attn_layer_norm": "ln1", "final_layer_norm": "ln2",
        "fc1": "ffn_up", "fc2": "ffn_down",
    }
    stem, kind = rest.rsplit(".", 1)
    return f"a.blk.{i}.{m[stem]}.{kind}"


CONV_KERNELS = ("conv2d1.weight", "conv2d2.weight", "conv2d3.weight", "conv_out.weight")


def stored(name, t, dtype):
    """(array, raw ggml type or None) as a file of this dtype stores the tensor.

    f16 / bf16: every matrix and conv kernel in that type. q8_0: upstream's layout (llama.cpp's
    converter forces the conv kernels, conv_out included, to F16 and quantizes the other
    matrices). Biases, norms and the position table stay F32.
    """
    if not (name.endswith(".weight") and t.ndim >= 2) or dtype == "f32":
        return t, None
    if dtype == "f16" or (dtype == "q8_0" and name in CONV_KERNELS):
        return t.astype(np.float16), None
    qtype = {"bf16": gguf.GGMLQuantizationType.BF16, "q8_0": gguf.GGMLQuantizationType.Q8_0}[dtype]
    return gguf.quants.quantize(t, qtype), qtype


def write(path, W, shape, projector, dtype, pos_layout="concat"):
    s = SHAPES[shape]
    wr = gguf.GGUFWriter(path, "clip")
    wr.add_clip_has_audio_encoder(True)
    wr.add_clip_audio_projector_type(projector)
    wr.add_audio_projection_dim(s["out"])
    wr.add_audio_embedding_length(s["d_model"])
    wr.add_audio_feed_forward_length(s["ffn"])
    wr.add_audio_block_count(s["layers"])
    wr.add_audio_head_count(s["heads"])
    wr.add_audio_attention_layernorm_eps(1e-5)
    wr.add_audio_num_mel_bins(N_MEL)
    if projector == "qwen3asr":  # what our converter adds; upstream's qwen3a files have none of it
        wr.add_uint32("clip.audio.n_window", N_WINDOW)
        wr.add_uint32("clip.audio.n_window_infer", N_WINDOW_INFER)
        wr.add_uint32("clip.audio.downsample_hidden_size", s["ds"])
        wr.add_uint32("clip.audio.max_source_positions", MAX_SOURCE_POSITIONS)
        wr.add_uint32("clip.audio.conv_chunksize", CONV_CHUNKSIZE)
    for name, t in W.items():
        if name.startswith("conv2d") and name.endswith(".bias"):
            t = t.reshape(-1, 1, 1)  # upstream stores conv2d biases as [C, 1, 1] (ggml [1, 1, C]), f32
        data, qtype = stored(name, t, dtype)
        wr.add_tensor(gguf_name(name), data, raw_dtype=qtype)
    if pos_layout != "none":
        wr.add_tensor("a.position_embd.weight",
                      sinusoids(MAX_SOURCE_POSITIONS, s["d_model"], interleaved=(pos_layout == "interleaved")))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=SHAPES, default="tiny")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16", "q8_0"], default="f32",
                    help="how matrices and conv kernels are stored (see stored())")
    ap.add_argument("--out", help="qwen3asr mmproj path")
    ap.add_argument("--out-qwen3a", help="upstream qwen3a mmproj path (same weights)")
    ap.add_argument("--pos-layout", choices=["concat", "interleaved", "none"], default="concat",
                    help="interleaved writes a wrong table, none no table: the encoder computes its own")
    a = ap.parse_args()
    W = make_weights(a.shape, a.seed)
    if a.out:
        write(a.out, W, a.shape, "qwen3asr", a.dtype, a.pos_layout)
    if a.out_qwen3a:
        write(a.out_qwen3a, W, a.shape, "qwen3a", a.dtype, a.pos_layout)


if __name__ == "__main__":
    main()
