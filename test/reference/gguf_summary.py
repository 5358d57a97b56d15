#!/usr/bin/python3
"""One GGUF file's metadata and tensors as JSON (arrays longer than 8 shown by length and head).

    PYTHONPATH=<llama.cpp>/gguf-py /usr/bin/python3 test/reference/gguf_summary.py FILE [--full-arrays]
"""
import argparse
import json

import gguf


def field_value(field: gguf.ReaderField, full: bool):
    if not field.types:
        return None
    if field.types[0] == gguf.GGUFValueType.ARRAY:
        items = field.contents()
        if full or len(items) <= 8:
            return items
        return {"length": len(items), "head": items[:4]}
    return field.contents()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--full-arrays", action="store_true")
    args = p.parse_args()
    r = gguf.GGUFReader(args.file)
    metadata = {k: field_value(f, args.full_arrays) for k, f in r.fields.items() if not k.startswith("GGUF.")}
    tensors = {t.name: {"type": t.tensor_type.name, "shape": [int(x) for x in t.shape]} for t in r.tensors}
    print(json.dumps({"metadata": metadata, "tensors": tensors}, ensure_ascii=False))


if __name__ == "__main__":
    main()
