import { UserError } from '../errors.js';
import type { OutType } from './ggml-types.js';
import type { TensorPlan } from './gguf-writer.js';
import type { Qwen3AsrConfig } from './qwen3asr-config.js';
import type { TensorEntry } from './safetensors.js';
import { sinusoidPositionTable } from './position-table.js';

/**
 * Which checkpoint tensor becomes which GGUF tensor, with which shape and type. Names follow
 * llama.cpp's qwen3 text architecture (src/llama-arch.cpp) and mtmd's qwen3a audio tensors
 * (tools/mtmd/clip-impl.h); types follow what llama.cpp's own converter chooses.
 */

export type MmprojFormat = 'qwen3asr' | 'qwen3a';
export const MMPROJ_FORMATS: readonly MmprojFormat[] = ['qwen3asr', 'qwen3a'];

export type TensorSourceRef =
  | { readonly kind: 'checkpoint'; readonly entry: TensorEntry }
  | { readonly kind: 'generated'; readonly data: () => Float32Array };

export interface PlannedTensor extends TensorPlan {
  readonly source: TensorSourceRef;
}

const TEXT_LAYER: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/** The aligner's lm_head in the text GGUF: llama.cpp's LLM_TENSOR_CLS_OUT. */
export const ALIGNER_HEAD = 'cls.output.weight';

/** GGUF name of a decoder tensor (of an ASR checkpoint), or undefined when the name is not a decoder tensor. */
export function textTensorName(hf: string): string | undefined {
  if (hf === 'thinker.model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'thinker.model.norm.weight') return 'output_norm.weight';
  if (hf === 'thinker.lm_head.weight') return 'output.weight';
  const m = /^thinker\.model\.layers\.(\d+)\.(.+)$/.exec(hf);
  const tail = m && TEXT_LAYER[m[2]];
  return tail ? `blk.${m[1]}.${tail}` : undefined;
}

const AUDIO_LAYER: Record<string, string> = {
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.out_proj': 'attn_out',
  self_attn_layer_norm: 'ln1',
  final_layer_norm: 'ln2',
  fc1: 'ffn_up',
  fc2: 'ffn_down',
};

/** GGUF name of an audio-tower tensor, or undefined. */
export function audioTensorName(hf: string): string | undefined {
  const p = 'thinker.audio_tower.';
  if (!hf.startsWith(p)) return undefined;
  const rest = hf.slice(p.length);
  let m = /^conv2d([123])\.(weight|bias)$/.exec(rest);
  if (m) return `a.conv2d.${m[1]}.${m[2]}`;
  if (rest === 'conv_out.weight') return 'a.conv_out.weight';
  m = /^ln_post\.(weight|bias)$/.exec(rest);
  if (m) return `a.post_ln.${m[1]}`;
  m = /^proj([12])\.(weight|bias)$/.exec(rest);
  if (m) return `mm.a.mlp.${m[1]}.${m[2]}`;
  m = /^layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(rest);
  const tail = m ? AUDIO_LAYER[m[2]] : undefined;
  return m && tail ? `a.blk.${m[1]}.${tail}.${m[3]}` : undefined;
}

/** ggml dims are PyTorch's reversed. */
const ggmlDims = (shape: readonly number[]) => [...shape].reverse();

/** llama.cpp keeps 1-D tensors and norms in f32; q8_0 needs rows that are a multiple of 32. */
function textType(gguf: string, dims: readonly number[], out: OutType): OutType {
  if (dims.length <= 1 || gguf.endsWith('_norm.weight')) return 'f32';
  if (out === 'q8_0' && dims[0] % 32 !== 0) return 'f16';
  return out;
}

function audioType(gguf: string, dims: readonly number[], out: OutType, format: MmprojFormat): OutType {
  // Convolution kernels go to f16 (ggml's im2col path wants f16/f32), as llama.cpp's converter
  // does for every ".conv*.weight" (conv_out included); our own format keeps f32 when asked for f32.
  if (/^a\.conv(2d\.\d|_out)\.weight$/.test(gguf)) return format === 'qwen3asr' && out === 'f32' ? 'f32' : 'f16';
  if (dims.length <= 1 || !gguf.endsWith('.weight')) return 'f32';
  if (out === 'q8_0' && dims[0] % 32 !== 0) return 'f16';
  return out;
}

function expectShape(entry: TensorEntry | undefined, name: string, shape: readonly number[]): TensorEntry {
  if (!entry) throw new UserError(`checkpoint is missing tensor ${name}`, { hint: 'the download may be incomplete' });
  if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
    throw new UserError(`tensor ${name} has shape [${entry.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
  }
  return entry;
}

/** Every decoder tensor in llama.cpp's order (embeddings, blocks, output), checked against the config. */
export function planTextTensors(cfg: Qwen3AsrConfig, tensors: ReadonlyMap<string, TensorEntry>, out: OutType): PlannedTensor[] {
  const t = cfg.text;
  const H = t.hiddenSize;
  const q = t.heads * t.headDim;
  const kv = t.kvHeads * t.headDim;
  const F = t.intermediateSize;
  const want: [string, number[]][] = [['thinker.model.embed_tokens.weight', [t.vocabSize, H]]];
  for (let i = 0; i < t.layers; i++) {
    const p = `thinker.model.layers.${i}.`;
    want.push(
      [`${p}input_layernorm.weight`, [H]],
      [`${p}self_attn.q_proj.weight`, [q, H]],
      [`${p}self_attn.k_proj.weight`, [kv, H]],
      [`${p}self_attn.v_proj.weight`, [kv, H]],
      [`${p}self_attn.o_proj.weight`, [H, q]],
      [`${p}self_attn.q_norm.weight`, [t.headDim]],
      [`${p}self_attn.k_norm.weight`, [t.headDim]],
      [`${p}post_attention_layernorm.weight`, [H]],
      [`${p}mlp.gate_proj.weight`, [F, H]],
      [`${p}mlp.up_proj.weight`, [F, H]],
      [`${p}mlp.down_proj.weight`, [H, F]],
    );
  }
  want.push(['thinker.model.norm.weight', [H]]);
  const head = 'thinker.lm_head.weight';
  // The aligner's head scores time classes, not tokens: it is always present and becomes llama.cpp's
  // classifier head. An ASR checkpoint without lm_head is tied: llama.cpp reuses token_embd then.
  if (cfg.aligner) want.push([head, [cfg.aligner.classifyNum, H]]);
  else if (tensors.has(head)) want.push([head, [t.vocabSize, H]]);
  for (const name of tensors.keys()) {
    if (name.startsWith('thinker.model.') && !textTensorName(name)) throw new UserError(`unexpected tensor ${name} in the checkpoint`);
  }
  return want.map(([hf, shape]) => {
    const entry = expectShape(tensors.get(hf), hf, shape);
    const name = cfg.aligner && hf === head ? ALIGNER_HEAD : textTensorName(hf)!;
    const dims = ggmlDims(shape);
    return { name, dims, type: textType(name, dims, out), source: { kind: 'checkpoint', entry } };
  });
}

export function planAudioTensors(
  cfg: Qwen3AsrConfig,
  tensors: ReadonlyMap<string, TensorEntry>,
  out: OutType,
  format: MmprojFormat,
): PlannedTensor[] {
  const a = cfg.audio;
  const D = a.dModel;
  const C = a.downsampleHiddenSize;
  // Three stride-2 convolutions with padding 1 shrink the mel axis: 128 → 64 → 32 → 16.
  let freq = a.numMelBins;
  for (let i = 0; i < 3; i++) freq = Math.floor((freq + 1) / 2);
  const p = 'thinker.audio_tower.';
  const want: [string, number[]][] = [
    [`${p}conv2d1.weight`, [C, 1, 3, 3]],
    [`${p}conv2d1.bias`, [C]],
    [`${p}conv2d2.weight`, [C, C, 3, 3]],
    [`${p}conv2d2.bias`, [C]],
    [`${p}conv2d3.weight`, [C, C, 3, 3]],
    [`${p}conv2d3.bias`, [C]],
    [`${p}conv_out.weight`, [D, C * freq]],
  ];
  for (let i = 0; i < a.layers; i++) {
    const l = `${p}layers.${i}.`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      want.push([`${l}self_attn.${proj}.weight`, [D, D]], [`${l}self_attn.${proj}.bias`, [D]]);
    }
    want.push(
      [`${l}self_attn_layer_norm.weight`, [D]],
      [`${l}self_attn_layer_norm.bias`, [D]],
      [`${l}fc1.weight`, [a.ffnDim, D]],
      [`${l}fc1.bias`, [a.ffnDim]],
      [`${l}fc2.weight`, [D, a.ffnDim]],
      [`${l}fc2.bias`, [D]],
      [`${l}final_layer_norm.weight`, [D]],
      [`${l}final_layer_norm.bias`, [D]],
    );
  }
  want.push(
    [`${p}ln_post.weight`, [D]],
    [`${p}ln_post.bias`, [D]],
    [`${p}proj1.weight`, [D, D]],
    [`${p}proj1.bias`, [D]],
    [`${p}proj2.weight`, [a.outputDim, D]],
    [`${p}proj2.bias`, [a.outputDim]],
  );
  for (const name of tensors.keys()) {
    if (name.startsWith(p) && !audioTensorName(name)) throw new UserError(`unexpected tensor ${name} in the checkpoint`);
  }
  const planned: PlannedTensor[] = [
    {
      name: 'a.position_embd.weight',
      dims: [D, a.maxSourcePositions],
      type: 'f32',
      source: { kind: 'generated', data: () => sinusoidPositionTable(D, a.maxSourcePositions) },
    },
  ];
  for (const [hf, shape] of want) {
    const entry = expectShape(tensors.get(hf), hf, shape);
    const name = audioTensorName(hf)!;
    // mtmd adds conv biases as [1, 1, C] so they broadcast over (time, freq); same bytes.
    const dims = /^a\.conv2d\.\d\.bias$/.test(name) ? [1, 1, C] : ggmlDims(shape);
    planned.push({ name, dims, type: audioType(name, dims, out, format), source: { kind: 'checkpoint', entry } });
  }
  return planned;
}

