"""The smallest stand-in for Hugging Face `transformers` that llama.cpp's convert_hf_to_gguf.py
needs to convert a Qwen3-ASR checkpoint (transformers itself cannot be installed here).

Upstream calls exactly two things:
  * `AutoConfig.from_pretrained(dir)`: it catches any exception and reads config.json itself,
    which is what real transformers (4.57) leads to as well: it does not know `qwen3_asr`.
  * `AutoTokenizer.from_pretrained(dir)` for a GPT-2-style BPE vocabulary: `.vocab`,
    `.get_added_vocab()`, `.added_tokens_decoder`, `.encode()`, `.decode()`.
The tokenizer is a real byte-level BPE with Qwen2's pre-tokenizer and NFC normalisation, built
from vocab.json, merges.txt and tokenizer_config.json's added tokens, the files a Qwen3-ASR
checkpoint ships (it has no tokenizer.json), as transformers' Qwen2Tokenizer reads them.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # test/reference: the shared gpt2_bytes
from gpt2_bytes import bytes_to_unicode  # noqa: E402

__version__ = "0.0.0-stand-in"


class AutoConfig:
    @staticmethod
    def from_pretrained(path, **_kwargs):
        model_type = json.loads((Path(path) / "config.json").read_text(encoding="utf-8")).get("model_type")
        # transformers' own message for a model type it has no class for.
        raise ValueError(f"The checkpoint you are trying to load has model type `{model_type}` but Transformers does not recognize this architecture.")


@dataclass(frozen=True)
class AddedToken:
    content: str
    special: bool = False
    normalized: bool = True
    lstrip: bool = False
    rstrip: bool = False
    single_word: bool = False

    def __str__(self) -> str:
        return self.content


def _bytes_to_unicode() -> dict[int, str]:
    return bytes_to_unicode()


def _category_class(prefix: str) -> str:
    """A `re` character class of every code point whose Unicode category starts with `prefix`
    (the `regex` module's \\p{L} / \\p{N}, which `re` lacks), as ranges."""
    parts, start, prev = [], None, None
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            parts.append(re.escape(chr(start)) if start == prev else f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = None
    if start is not None:
        parts.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
    return "".join(parts)


_L = _category_class("L")
_N = _category_class("N")
# Qwen2's pre-tokenizer split (tokenizer.json of Qwen2/Qwen3), with \p{L} and \p{N} spelled out.
QWEN2_SPLIT = re.compile(
    rf"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n{_L}{_N}]?[{_L}]+|[{_N}]| ?[^\s{_L}{_N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


class Qwen2Tokenizer:
    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], added: dict[int, AddedToken]):
        self._encoder = dict(vocab)
        self._decoder = {i: t for t, i in vocab.items()}
        self._ranks = {pair: r for r, pair in enumerate(merges)}
        self.added_tokens_decoder = dict(sorted(added.items()))
        self._added_ids = {t.content: i for i, t in self.added_tokens_decoder.items()}
        self._byte_encoder = _bytes_to_unicode()
        self._byte_decoder = {c: b for b, c in self._byte_encoder.items()}
        # Added tokens are cut out of the text before anything else, longest first.
        by_length = sorted(self._added_ids, key=len, reverse=True)
        self._added_split = re.compile("(" + "|".join(map(re.escape, by_length)) + ")") if by_length else None
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_pretrained(cls, path, **_kwargs) -> "Qwen2Tokenizer":
        d = Path(path)
        vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        merges = []
        for line in (d / "merges.txt").read_text(encoding="utf-8").split("\n"):
            if line and not line.startswith("#version"):
                a, b = line.split(" ")
                merges.append((a, b))
        config = json.loads((d / "tokenizer_config.json").read_text(encoding="utf-8"))
        added = {
            int(i): AddedToken(
                t["content"], special=t.get("special", False), normalized=t.get("normalized", True),
                lstrip=t.get("lstrip", False), rstrip=t.get("rstrip", False), single_word=t.get("single_word", False),
            )
            for i, t in config.get("added_tokens_decoder", {}).items()
        }
        return cls(vocab, merges, added)

    # ---- what convert_hf_to_gguf.py reads ----
    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    def get_vocab(self) -> dict[str, int]:
        return {**self._encoder, **self._added_ids}

    def get_added_vocab(self) -> dict[str, int]:
        return dict(self._added_ids)

    def __len__(self) -> int:
        return len(self.get_vocab())

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        # Qwen2's tokenizer adds no BOS/EOS, so add_special_tokens changes nothing.
        del add_special_tokens
        ids: list[int] = []
        pieces = self._added_split.split(text) if self._added_split else [text]
        for piece in pieces:
            if not piece:
                continue
            if piece in self._added_ids:
                ids.append(self._added_ids[piece])
                continue
            for word in QWEN2_SPLIT.findall(unicodedata.normalize("NFC", piece)):
                symbols = "".join(self._byte_encoder[b] for b in word.encode("utf-8"))
                ids.extend(self._encoder[s] for s in self._bpe(symbols))
        return ids

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        out, pending = [], []

        def flush():
            if pending:
                out.append(bytes(self._byte_decoder[c] for c in "".join(pending)).decode("utf-8", errors="replace"))
                pending.clear()

        for i in ids:
            i = int(i)
            if i in self.added_tokens_decoder:
                flush()
                if not (skip_special_tokens and self.added_tokens_decoder[i].special):
                    out.append(self.added_tokens_decoder[i].content)
            else:
                pending.append(self._decoder[i])
        flush()
        return "".join(out)

    def convert_tokens_to_ids(self, token: str) -> int | None:
        return self.get_vocab().get(token)

    # ---- byte-level BPE ----
    def _bpe(self, symbols: str) -> list[str]:
        if symbols in self._cache:
            return self._cache[symbols]
        word = list(symbols)
        while len(word) > 1:
            ranked = [(self._ranks.get((a, b), None), k) for k, (a, b) in enumerate(zip(word, word[1:]))]
            ranked = [(r, k) for r, k in ranked if r is not None]
            if not ranked:
                break
            best = min(ranked)[0]
            pair = next((word[k], word[k + 1]) for r, k in ranked if r == best)
            merged, k = [], 0
            while k < len(word):
                if k + 1 < len(word) and (word[k], word[k + 1]) == pair:
                    merged.append(word[k] + word[k + 1])
                    k += 2
                else:
                    merged.append(word[k])
                    k += 1
            word = merged
        self._cache[symbols] = word
        return word


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path, **kwargs) -> Qwen2Tokenizer:
        config = json.loads((Path(path) / "tokenizer_config.json").read_text(encoding="utf-8"))
        cls = config.get("tokenizer_class")
        if cls not in ("Qwen2Tokenizer", "Qwen2TokenizerFast"):
            raise ValueError(f"the transformers stand-in only has Qwen2Tokenizer, not {cls}")
        return Qwen2Tokenizer.from_pretrained(path, **kwargs)
