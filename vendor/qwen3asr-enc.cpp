// Qwen3-ASR audio tower (projector type "qwen3asr"), exact to the official model:
//   QwenLM/Qwen3-ASR qwen_asr/core/transformers_backend/modeling_qwen3_asr.py (Qwen3ASRAudioEncoder),
//   attention windows as its flash-attention-2 path and vLLM apply them.
//
// One graph per mtmd audio entry (up to clip_hparams::qwen3asr_windows_per_encode windows).
// It runs upstream's "qwen3a" files too (same tensors; clip.cpp maps them here unless
// QWEN3ASR_UPSTREAM_QWEN3A=1 asks for upstream's graph).
// Differences from upstream's "qwen3a" graph, which this file leaves alone:
//   - the input holds exactly the valid mel frames; the partial last chunk is zero-padded here, in
//     the normalized mel domain, and only its valid post-CNN frames are kept (official length formula);
//   - all attention windows of the entry run in one graph, as a batch of windows (block-diagonal
//     attention); only the last window can be partial, and a key mask hides its padding;
//   - chunk and window sizes come from the GGUF (n_window, n_window_infer; qwen3a files, which
//     lack them, get the released checkpoints' 50 and 800), the position table from the loader;
//   - the convolutions keep activations channel-minor and build their patch matrices from strided
//     views (same GEMMs as ggml_conv_2d, without its element-wise im2col): ~20 % faster on CPU.

#include "models.h"

#include <algorithm>
#include <cmath>

// frames after the three stride-2, pad-1, kernel-3 convolutions, as _get_feat_extract_output_lengths
static int64_t qwen3asr_conv_len(int64_t n) {
    for (int i = 0; i < 3; i++) {
        n = (n - 1) / 2 + 1;
    }
    return n;
}

int64_t clip_graph_qwen3asr::n_tokens(const clip_hparams & hparams, int64_t n_frames) {
    const int64_t chunk = 2 * hparams.audio_n_window;
    const int64_t rem   = n_frames % chunk;
    // a zero remainder adds nothing (python's floor division gives 0 there, C's would give 1)
    return (n_frames / chunk) * qwen3asr_conv_len(chunk) + (rem > 0 ? qwen3asr_conv_len(rem) : 0);
}

// valid tokens per attention window: 13 x (800 / 100) = 104 for the released checkpoints
int64_t clip_graph_qwen3asr::n_window_tokens(const clip_hparams & hparams) {
    const int64_t chunk = 2 * hparams.audio_n_window;
    return qwen3asr_conv_len(chunk) * (hparams.audio_n_window_infer / chunk);
}

// [n_win_tok, n_win_tok, 1, n_windows]: key k of window w is visible iff it is a real token
std::vector<float> clip_graph_qwen3asr::window_mask(const clip_hparams & hparams, int64_t n_frames) {
    const int64_t n_tok = n_tokens(hparams, n_frames);
    const int64_t W     = n_window_tokens(hparams);
    const int64_t n_win = (n_tok + W - 1) / W;
    std::vector<float> mask((size_t) (W * W * n_win), 0.0f);
    for (int64_t w = 0; w < n_win; w++) {
        for (int64_t q = 0; q < W; q++) {
            for (int64_t k = 0; k < W; k++) {
                if (w * W + k >= n_tok) {
                    mask[(size_t) ((w * W + q) * W + k)] = -INFINITY;
                }
            }
        }
    }
    return mask;
}

ggml_cgraph * clip_graph_qwen3asr::build() {
    const int64_t n_frames = img.nx();                  // valid mel frames T of this entry
    const int64_t n_mel    = img.ny();                  // 128
    const int64_t chunk    = 2 * hparams.audio_n_window; // 100 frames per conv chunk
    const int64_t n_chunks = (n_frames + chunk - 1) / chunk;
    const int64_t t_chunk  = qwen3asr_conv_len(chunk);  // 13 tokens per full chunk
    const int64_t n_tok    = n_tokens(hparams, n_frames); // A
    const int64_t W        = n_window_tokens(hparams);  // 104 tokens per attention window
    const int64_t n_win    = (n_tok + W - 1) / W;

    // [T, n_mel]
    ggml_tensor * inp = build_inp_raw(1);

    // the reference zero-pads every chunk to the longest one; with >= 1 full chunk that is `chunk`
    // frames, and a lone short chunk pads to itself, which is the same as not padding
    const int64_t chunk_len = n_frames >= chunk ? chunk : n_frames;
    const int64_t n_padded  = n_chunks * chunk_len;
    if (n_padded > n_frames) {
        inp = ggml_pad(ctx0, inp, (int) (n_padded - n_frames), 0, 0, 0);
    }
    // [chunk_len, n_mel, 1, n_chunks]
    inp = ggml_view_4d(ctx0, inp, chunk_len, n_mel, 1, n_chunks,
            inp->nb[1], chunk_len * sizeof(float), chunk_len * sizeof(float), 0);
    inp = ggml_cont(ctx0, inp);
    cb(inp, "inp_chunks", -1);

    // 3 x (conv2d 3x3 stride 2 pad 1 + GELU(erf)) over (time, freq), per chunk.
    //
    // Activations are kept channel-minor, [C, t, f, n], where ggml_conv_2d works on [t, f, C, n].
    // With the channel innermost, the 3x3 patch matrix of the next convolution is nine strided
    // views, each copying contiguous runs of C floats, and the bias add is a plain row broadcast;
    // ggml's im2col instead gathers element by element across channel planes (~15 % of the whole
    // encoder on CPU). The GEMMs have ggml_conv_2d's sizes; only the order of the terms inside each
    // sum differs (tap-major instead of channel-major), a rounding-level change.

    // conv2d1 has one input channel: patches [9, t, f, n] from ggml_im2col, with K = 9 zero-padded
    // to 16 (below one SIMD block every CPU GEMM falls back to scalar dot products); f32, it is small
    GGML_ASSERT(model.conv2d_1_w->ne[0] == 3 && model.conv2d_1_w->ne[1] == 3 && model.conv2d_1_w->ne[2] == 1);
    ggml_tensor * k1 = ggml_cast(ctx0, ggml_reshape_2d(ctx0, model.conv2d_1_w, 9, model.conv2d_1_w->ne[3]), GGML_TYPE_F32);
    k1 = ggml_pad(ctx0, k1, 16 - 9, 0, 0, 0);                              // [16, C_ds]
    const int64_t c_ds = k1->ne[1];
    auto conv1 = [&](ggml_tensor * x) {                                    // x: [t, n_mel, 1, n]
        ggml_tensor * col = ggml_im2col(ctx0, model.conv2d_1_w, x, 2, 2, 1, 1, 1, 1, true, GGML_TYPE_F32);
        const int64_t t = col->ne[1], f = col->ne[2], n = col->ne[3];
        col = ggml_pad(ctx0, ggml_reshape_2d(ctx0, col, 9, t * f * n), 16 - 9, 0, 0, 0);
        x = ggml_mul_mat(ctx0, k1, col);                                   // [C_ds, t * f * n]
        x = ggml_add(ctx0, x, ggml_reshape_1d(ctx0, model.conv2d_1_b, c_ds));
        x = ggml_gelu_erf(ctx0, x);
        return ggml_reshape_4d(ctx0, x, c_ds, t, f, n);                    // [C_ds, t, f, n]
    };

    // conv2d2/3 kernels, [3 (t), 3 (f), C_in, C_out] -> [C_in, 3 (t), 3 (f), C_out]: the patch order
    auto patch_kernel = [&](ggml_tensor * w) {
        w = ggml_cont(ctx0, ggml_permute(ctx0, w, 1, 2, 0, 3));
        return ggml_reshape_2d(ctx0, w, w->ne[0] * 9, w->ne[3]);          // [9 * C_in, C_out]
    };
    // a row of C zeros for the padding canvases (0 x finite bias)
    auto zero_row = [&](int64_t C) {
        return ggml_scale(ctx0, ggml_view_1d(ctx0, model.conv2d_2_b, C, 0), 0.0f);
    };
    ggml_tensor * k2 = patch_kernel(model.conv2d_2_w);
    ggml_tensor * k3 = patch_kernel(model.conv2d_3_w);
    auto conv = [&](ggml_tensor * x, ggml_tensor * k, ggml_tensor * b) {  // x: [C, t, f, n]
        const int64_t C = x->ne[0], t = x->ne[1], f = x->ne[2], n = x->ne[3];
        const int64_t t_o = (t - 1) / 2 + 1, f_o = (f - 1) / 2 + 1;
        // zero padding by one frame / bin on each side (the trailing one is read only when odd):
        // a zero canvas written by row copies, x set into its interior (ggml_pad_ext would do the
        // same one element at a time)
        ggml_tensor * xp = ggml_repeat_4d(ctx0, zero_row(C), C, t + 2, f + 2, n);
        xp = ggml_set_inplace(ctx0, xp, x, xp->nb[1], xp->nb[2], xp->nb[3], xp->nb[1] + xp->nb[2]);
        // tap (dt, df) of output (i, j) reads padded (2i + dt, 2j + df); made contiguous, as some
        // backends' set (CUDA's) takes only a contiguous source
        auto tap = [&](int64_t dt, int64_t df) {
            return ggml_cont(ctx0, ggml_view_4d(ctx0, xp, C, t_o, f_o, n, 2 * xp->nb[1], 2 * xp->nb[2], xp->nb[3],
                    dt * xp->nb[1] + df * xp->nb[2]));
        };
        // patches [9 * C, t_o, f_o, n], tap-major like the kernel: the first tap repeated nine
        // times (row copies), then the other eight written into place
        ggml_tensor * col = ggml_repeat_4d(ctx0, tap(0, 0), 9 * C, t_o, f_o, n);
        for (int64_t i = 1; i < 9; i++) {
            col = ggml_set_inplace(ctx0, col, tap(i % 3, i / 3), col->nb[1], col->nb[2], col->nb[3],
                    i * C * ggml_element_size(col));
        }
        x = ggml_mul_mat(ctx0, k, ggml_reshape_2d(ctx0, col, 9 * C, t_o * f_o * n)); // [C_out, t_o * f_o * n]
        x = ggml_add(ctx0, x, ggml_reshape_1d(ctx0, b, ggml_nelements(b)));
        x = ggml_gelu_erf(ctx0, x);
        return ggml_reshape_4d(ctx0, x, x->ne[0], t_o, f_o, n);
    };

    // The conv front end runs in groups of chunks (the official model batches chunks the same way,
    // conv_chunksize at a time; the result does not depend on it), so that one group's buffers
    // (~14 MB of conv2d2 patches per chunk) are reused by the next instead of growing with the
    // input. 1, 2, 4 and 8 chunks per group measured alike on CPU; 2 keeps the buffers small.
    const int64_t group = 2;
    ggml_tensor * cur = nullptr;
    int64_t t_out = 0;
    for (int64_t c0 = 0; c0 < n_chunks; c0 += group) {
        const int64_t n_g = std::min(group, n_chunks - c0);
        ggml_tensor * x = ggml_view_4d(ctx0, inp, chunk_len, n_mel, 1, n_g,
                inp->nb[1], inp->nb[2], inp->nb[3], c0 * inp->nb[3]);
        x = conv1(x);                                                       // [C_ds, 50, 64, n_g]
        cb(x, "conv2d", 1);
        x = conv(x, k2, model.conv2d_2_b);                                  // [C_ds, 25, 32, n_g]
        cb(x, "conv2d", 2);
        x = conv(x, k3, model.conv2d_3_b);                                  // [C_ds, 13, 16, n_g]
        cb(x, "conv2d", 3);

        // channel-major flatten, as the reference's (c, f) order: feature = c * 16 + f
        // [C_ds, t, f, n] -> [f, C_ds, t, n] -> [16 * C_ds, t_out * n_g]
        t_out = x->ne[1];
        x = ggml_cont(ctx0, ggml_permute(ctx0, x, 1, 2, 0, 3));
        x = ggml_reshape_2d(ctx0, x, x->ne[0] * x->ne[1], x->ne[2] * x->ne[3]);
        cb(x, "conv_flat", -1);

        // [d_model, t_out * n_g]
        x = build_mm(model.conv_out_w, x);
        cur = cur ? ggml_concat(ctx0, cur, x, 1) : x;
    }
    cb(cur, "conv_out", -1);

    // sinusoid rows 0..t_out-1, restarting in every chunk
    {
        ggml_tensor * pos = ggml_view_2d(ctx0, model.position_embeddings,
                model.position_embeddings->ne[0], t_out, model.position_embeddings->nb[1], 0);
        cur = ggml_reshape_3d(ctx0, cur, n_embd, t_out, n_chunks);
        cur = ggml_add(ctx0, cur, pos);
        cur = ggml_reshape_2d(ctx0, cur, n_embd, t_out * n_chunks);
        cb(cur, "pos_embd", -1);
    }

    // keep the valid post-CNN frames: chunks are in order and only the last one is partial, so the
    // valid frames are the first A columns; [d_model, A]
    GGML_ASSERT(t_out == (n_frames >= chunk ? t_chunk : n_tok));
    cur = ggml_view_2d(ctx0, cur, n_embd, n_tok, cur->nb[1], 0);

    // group into attention windows, padding the last one: [d_model, W, n_win]
    const int64_t win_len = n_win > 1 ? W : n_tok;
    if (n_win * win_len > n_tok) {
        cur = ggml_pad(ctx0, cur, 0, (int) (n_win * win_len - n_tok), 0, 0);
    }
    cur = ggml_reshape_3d(ctx0, cur, n_embd, win_len, n_win);
    cb(cur, "windows", -1);

    build_vit_opts opts;
    if (n_win * win_len > n_tok) {
        // [W, W, 1, n_win], broadcast over heads
        opts.attn_mask = ggml_new_tensor_4d(ctx0, GGML_TYPE_F32, win_len, win_len, 1, n_win);
        ggml_set_name(opts.attn_mask, "kq_mask");
        ggml_set_input(opts.attn_mask);
    }

    // pre-LN blocks: x += attn(LN1(x)); x += fc2(GELU(fc1(LN2(x)))); then ln_post
    // [d_model, W * n_win]
    cur = build_vit(cur, win_len, NORM_TYPE_NORMAL, hparams.ffn_op, nullptr, nullptr, opts);
    cb(cur, "after_transformer", -1);

    // drop the window padding: [d_model, A]
    cur = ggml_view_2d(ctx0, cur, n_embd, n_tok, cur->nb[1], 0);

    // proj1 -> GELU -> proj2: [output_dim, A]
    cur = build_ffn(cur,
            model.mm_1_w, model.mm_1_b,
            nullptr, nullptr,
            model.mm_2_w, model.mm_2_b,
            FFN_GELU_ERF, -1);
    cb(cur, "projected", -1);

    ggml_build_forward_expand(gf, cur);
    return gf;
}
