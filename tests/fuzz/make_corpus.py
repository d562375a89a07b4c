#!/usr/bin/env python3
"""Writes the GGUF fuzzing seeds in tests/fuzz/corpus/ (each well under 4 KB).

An independent little-endian GGUF encoder, so the seeds also cross-check wafer's writer:
gguf_test parses every seed. Run from anywhere: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
              BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (elements per block, bytes per block)
BLOCKS = {0: (1, 4), 1: (1, 2), 8: (32, 34), 12: (256, 144), 14: (256, 210), 24: (1, 1)}


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype == STR:
        return string(v)
    if vtype == ARR:
        elem_type, elems = v
        return struct.pack("<IQ", elem_type, len(elems)) + b"".join(value(elem_type, e) for e in elems)
    return struct.pack(SCALAR_FMT[vtype], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, [ne...], ggml_type)] with pattern data."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, v in kvs:
        out += string(key) + struct.pack("<I", vtype) + value(vtype, v)
    blobs, offset = [], 0
    for name, shape, ttype in tensors:
        per_block, block_bytes = BLOCKS[ttype]
        n = 1
        for ne in shape:
            n *= ne
        size = n // per_block * block_bytes
        offset = (offset + alignment - 1) // alignment * alignment
        out += string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", ne) for ne in shape)
        out += struct.pack("<IQ", ttype, offset)
        blobs.append((offset, bytes((i * 7 + len(name)) & 0xFF for i in range(size))))
        offset += size
    data_start = (len(out) + alignment - 1) // alignment * alignment
    if tensors:
        out += b"\0" * (data_start - len(out))
        for rel, blob in blobs:
            out += b"\0" * (data_start + rel - len(out)) + blob
    return out


SEEDS = {
    "metadata_all_types.gguf": gguf([
        ("general.architecture", STR, "qwen2"),
        ("general.name", STR, "seed \u00e9\u20ac"),
        ("t.u8", U8, 255), ("t.i8", I8, -1), ("t.u16", U16, 65535), ("t.i16", I16, -2),
        ("t.u32", U32, 4096), ("t.i32", I32, -3), ("t.f32", F32, 0.5), ("t.bool", BOOL, 1),
        ("t.u64", U64, 2**64 - 1), ("t.i64", I64, -(2**63)), ("t.f64", F64, 1e6),
        ("tokenizer.ggml.tokens", ARR, (STR, ["!", "\"", "hello", "<|endoftext|>"])),
        ("tokenizer.ggml.token_type", ARR, (I32, [1, 1, 1, 3])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, -1.0, -2.5, 0.0])),
        ("t.nested", ARR, (ARR, [(U16, [1, 2]), (STR, ["x"]), (ARR, [(BOOL, [0, 1])])])),
        ("t.empty", ARR, (U8, [])),
    ], []),
    "tensors_quantized.gguf": gguf([
        ("general.architecture", STR, "llama"),
        ("llama.block_count", U32, 1),
    ], [
        ("token_embd.weight", [4, 3], 0),
        ("blk.0.attn_q.weight", [32, 2], 8),
        ("blk.0.ffn_down.weight", [256, 1], 12),
        ("blk.0.ffn_up.weight", [256, 1, 1, 1], 14),
        ("output_norm.weight", [5], 24),
    ]),
    "v2_alignment_16.gguf": gguf([
        ("general.alignment", U32, 16),
        ("general.architecture", STR, "qwen3"),
    ], [
        ("a", [3], 1),
        ("b", [2, 2], 0),
    ], version=2, alignment=16),
}


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(corpus, exist_ok=True)
    for name, data in SEEDS.items():
        assert len(data) < 4096, name
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
