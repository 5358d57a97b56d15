#!/usr/bin/python3
"""Write a tiny random Qwen3 text model GGUF for running llama-mtmd-cli against a tiny mmproj.

Byte-level BPE vocabulary (256 byte tokens + the chat/audio special tokens), n_embd 64 by default
(must equal the mmproj's projection_dim). Only useful for plumbing and determinism tests, and, with
--arch qwen3vl, for comparing llama.cpp's two labels of the same decoder (same seed, same weights).

  PYTHONPATH=<llama.cpp>/gguf-py /usr/bin/python3 test/reference/make_text_model.py --out text.gguf

--aligner N_CLS writes a tiny Qwen3-ForcedAligner text model instead, to our GGUF contract: the vocab
gains a user-defined `<timestamp>` token, there is no output.weight, and the head is
cls.output.weight [n_embd, N_CLS] with qwen3.classifier.output_labels ("0", "80", ...),
qwen3.embedding_length_out = N_CLS, qwen3.pooling_type = 0 and the qwen3asr.aligner.* keys.
--aligner N_CLS --no-head writes the same vocab and weights without the head (a plain qwen3): its
per-token embeddings (--embeddings --pooling none) are rmsnorm(hidden), so cls · them must equal
the aligner's rows.
"""
import argparse

import numpy as np

from gpt2_bytes import bytes_to_unicode
import gguf

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>", "<asr_text>"]


def byte_tokens():
    m = bytes_to_unicode()
    return [m[b] for b in range(256)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--head-dim", type=int, default=16)
    ap.add_argument("--arch", choices=["qwen3", "qwen3vl"], default="qwen3",
                    help="qwen3vl: the same weights as upstream's converter labels Qwen3-ASR's decoder "
                         "(no deepstack layers, M-RoPE sections)")
    ap.add_argument("--rope-sections", type=int, nargs=4, default=[24, 20, 20, 0],
                    help="qwen3vl M-RoPE sections, in rotary pairs (the released models': 24 20 20 0)")
    ap.add_argument("--aligner", type=int, default=0, metavar="N_CLS",
                    help="write a forced-aligner model with an N_CLS-class per-token head (qwen3 only)")
    ap.add_argument("--no-head", action="store_true",
                    help="with --aligner: the same vocab and weights, without the classifier head")
    ap.add_argument("--segment-ms", type=int, default=80, help="with --aligner: ms per class")
    a = ap.parse_args()
    if a.aligner and a.arch != "qwen3":
        ap.error("--aligner needs --arch qwen3")
    if a.no_head and not a.aligner:
        ap.error("--no-head needs --aligner")
    rng = np.random.default_rng(a.seed)

    toks = byte_tokens()
    merged = ["Ġt", "he", "Ġthe"]
    merges = ["Ġ t", "h e", "Ġt he"]
    tokens = toks + merged + SPECIALS
    types = [gguf.TokenType.NORMAL] * (len(toks) + len(merged)) + [gguf.TokenType.CONTROL] * len(SPECIALS)
    if a.aligner:
        # as in the real vocab, <timestamp> is a user-defined (not control) token
        tokens = tokens + ["<timestamp>"]
        types = types + [gguf.TokenType.USER_DEFINED]
    V = len(tokens)
    d, n_head, n_kv, hd, ffn, n_layer = a.n_embd, 4, 2, a.head_dim, 128, 2

    w = gguf.GGUFWriter(a.out, a.arch)
    if a.arch == "qwen3vl":
        w.add_num_deepstack_layers(0)
        w.add_rope_dimension_sections(a.rope_sections)
    w.add_name("tiny-qwen3-test")
    w.add_context_length(4096)
    w.add_embedding_length(d)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(ffn)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_rope_freq_base(1e6)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    eot = tokens.index("<|im_end|>")
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.add_add_bos_token(False)
    if a.aligner and not a.no_head:
        w.add_classifier_output_labels([str(i * a.segment_ms) for i in range(a.aligner)])
        w.add_embedding_length_out(a.aligner)
        w.add_pooling_type(gguf.PoolingType.NONE)
        w.add_uint32("qwen3asr.aligner.timestamp_token_id", tokens.index("<timestamp>"))
        w.add_uint32("qwen3asr.aligner.segment_ms", a.segment_ms)
    w.add_chat_template(
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

    def r(*shape, scale=0.1):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w.add_tensor("token_embd.weight", r(V, d, scale=1.0))
    w.add_tensor("output_norm.weight", np.ones(d, dtype=np.float32))
    out_w = r(V, d, scale=0.5)
    if not a.aligner:  # the aligner has no vocab lm_head (llama.cpp duplicates token_embd)
        w.add_tensor("output.weight", out_w)
    for i in range(n_layer):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(d, dtype=np.float32))
        w.add_tensor(p + "attn_q.weight", r(n_head * hd, d))
        w.add_tensor(p + "attn_k.weight", r(n_kv * hd, d))
        w.add_tensor(p + "attn_v.weight", r(n_kv * hd, d))
        w.add_tensor(p + "attn_output.weight", r(d, n_head * hd))
        w.add_tensor(p + "attn_q_norm.weight", np.ones(hd, dtype=np.float32))
        w.add_tensor(p + "attn_k_norm.weight", np.ones(hd, dtype=np.float32))
        w.add_tensor(p + "ffn_norm.weight", np.ones(d, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", r(ffn, d))
        w.add_tensor(p + "ffn_up.weight", r(ffn, d))
        w.add_tensor(p + "ffn_down.weight", r(d, ffn))
    if a.aligner:
        cls = r(a.aligner, d, scale=0.5)  # drawn last, so --no-head keeps every other weight
        if not a.no_head:
            w.add_tensor("cls.output.weight", cls)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
