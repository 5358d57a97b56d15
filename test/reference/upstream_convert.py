#!/usr/bin/python3
"""Runs llama.cpp's own convert_hf_to_gguf.py, unchanged, on this machine.

    /usr/bin/python3 test/reference/upstream_convert.py --llama-cpp <llama.cpp source> \
        [--tokenizer-pre qwen2] -- <convert_hf_to_gguf.py arguments...>

What it needs that is missing here is supplied from outside the script, never by editing it:
  * `transformers`: the stand-in in test/reference/stand-in/ (AutoTokenizer from vocab.json,
    merges.txt and tokenizer_config.json; AutoConfig raises, as transformers does for an
    unknown model type, and upstream then reads config.json itself);
  * `sentencepiece`: Qwen2Model.set_vocab tries the SentencePiece vocabulary first and only
    falls back to BPE on FileNotFoundError (no tokenizer.model), but it imports the module
    before looking, so an empty module lets it get that far;
  * `tqdm`: gguf-py's writer draws a progress bar with it; a silent bar stands in when it is
    not installed;
  * torch.float8_e4m3fn / float8_e5m2: named in upstream's dtype tables at import; Debian's
    torch 1.13 predates them. No tensor here has these types; they are aliased to uint8.
  * --tokenizer-pre: upstream recognises a vocabulary by hashing its tokenization of a fixed
    text; a synthetic vocabulary's hash is nobody's, so upstream refuses it. With this option
    an unrecognised hash gets the given pre-tokenizer name (the real Qwen3-ASR vocabulary,
    through the stand-in, hashes to upstream's own "qwen2" entry and needs no option).
"""
import argparse
import logging
import runpy
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent


def silent_tqdm() -> types.ModuleType:
    class tqdm:
        def __init__(self, *_a, **_k):
            pass

        def update(self, *_a, **_k):
            pass

        def set_description(self, *_a, **_k):
            pass

        def reset(self, *_a, **_k):
            pass

        def close(self):
            pass

    module = types.ModuleType("tqdm")
    module.tqdm = tqdm
    return module


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--llama-cpp", required=True, type=Path, help="the llama.cpp source tree (v0.5.0)")
    p.add_argument("--tokenizer-pre", help="pre-tokenizer name for a vocabulary upstream does not recognise")
    p.add_argument("convert_args", nargs=argparse.REMAINDER)
    args = p.parse_args()
    convert_args = args.convert_args[1:] if args.convert_args[:1] == ["--"] else args.convert_args
    script = args.llama_cpp / "convert_hf_to_gguf.py"
    if not script.is_file():
        sys.exit(f"upstream_convert: no convert_hf_to_gguf.py in {args.llama_cpp}")

    import torch

    for name in ("float8_e4m3fn", "float8_e5m2"):
        if not hasattr(torch, name):
            setattr(torch, name, torch.uint8)
    if "sentencepiece" not in sys.modules:
        try:
            import sentencepiece  # noqa: F401
        except ImportError:
            stub = types.ModuleType("sentencepiece")

            class SentencePieceProcessor:  # never constructed: there is no tokenizer.model
                def __init__(self, *_a, **_k):
                    raise RuntimeError("sentencepiece is not installed (stub from upstream_convert.py)")

            stub.SentencePieceProcessor = SentencePieceProcessor
            sys.modules["sentencepiece"] = stub
    try:
        import tqdm  # noqa: F401
    except ImportError:
        sys.modules["tqdm"] = silent_tqdm()
    sys.path.insert(0, str(HERE / "stand-in"))
    sys.path.insert(0, str(script.parent))

    if args.tokenizer_pre:
        from conversion.base import TextModel

        recognise = TextModel.get_vocab_base_pre

        def get_vocab_base_pre(self, tokenizer):
            try:
                return recognise(self, tokenizer)
            except NotImplementedError:
                logging.getLogger("upstream_convert").warning("unrecognised vocabulary hash: tokenizer.ggml.pre = %r", args.tokenizer_pre)
                return args.tokenizer_pre

        TextModel.get_vocab_base_pre = get_vocab_base_pre

    sys.argv = [str(script), *convert_args]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
