#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_il_decode (tests/corpus/il): one method
body per file, covering every header and section form of ECMA-335 II.25.4
and a few defects. Run from anywhere; it writes next to this script's tree.
Files named regress_*.bin are inputs that once broke a property (kept by
hand, not written here)."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "il")


def tiny(code):
    assert len(code) < 64
    return bytes([0x02 | len(code) << 2]) + code


def fat(code, max_stack=2, local_sig=0, init_locals=False, sections=b""):
    flags = 0x3 | (0x8 if sections else 0) | (0x10 if init_locals else 0)
    body = struct.pack("<HHII", flags | 3 << 12, max_stack, len(code), local_sig) + code
    if sections:
        body += b"\0" * (-len(body) % 4) + sections
    return body


def small_clause(kind, t, tl, h, hl, x):
    return struct.pack("<HHBHBI", kind, t, tl, h, hl, x)


def fat_clause(kind, t, tl, h, hl, x):
    return struct.pack("<6I", kind, t, tl, h, hl, x)


def section(clauses, fat_format=False, more=False, data_size=None):
    size = 24 if fat_format else 12
    n = len(clauses)
    ds = n * size + 4 if data_size is None else data_size
    kind = 0x01 | (0x40 if fat_format else 0) | (0x80 if more else 0)
    if fat_format:
        head = bytes([kind]) + struct.pack("<I", ds)[:3]
    else:
        head = struct.pack("<BBH", kind, ds, 0)
    return head + b"".join(clauses)


CODE6 = bytes([0x00, 0x00, 0xDD, 0x00, 0x00, 0x2A])
SEEDS = {
    "tiny_ret": tiny(b"\x2a"),
    "tiny_empty": tiny(b""),
    "tiny_63": tiny(bytes(62) + b"\x2a"),
    "fat_plain": fat(bytes([0x16, 0x0A, 0x06, 0x00, 0x2A]), local_sig=0x11000001, init_locals=True),
    "fat_small_eh": fat(CODE6, 3, init_locals=True, sections=section([
        small_clause(0, 0, 2, 2, 1, 0x01000002), small_clause(2, 0, 4, 4, 2, 0)])),
    "fat_fat_eh": fat(bytes(7) + b"\x2a", 1, sections=section([
        fat_clause(1, 0, 2, 4, 2, 2), fat_clause(4, 0, 6, 6, 2, 0)], fat_format=True)),
    "two_sections": fat(b"\x2a", 1, sections=section([small_clause(2, 0, 1, 0, 0, 0)], more=True)
                        + section([fat_clause(4, 0, 1, 0, 1, 0)], fat_format=True)),
    "inexact_vb": fat(CODE6, 3, sections=section([small_clause(2, 0, 4, 4, 2, 0)], data_size=12)),
    "empty_section": fat(CODE6, 3, sections=section([])),
    "many_small": fat(bytes(300) + b"\x2a", 8, sections=section(
        [small_clause(i % 3, i, 1, i + 1, 1, 0x01000000 + i if i % 3 == 0 else (i if i % 3 == 1 else 0))
         for i in range(20)])),
    "bad_kind": fat(CODE6, 3, sections=bytes([0x02, 4, 0, 0])),
    "truncated": fat(CODE6, 3, sections=section([small_clause(2, 0, 4, 4, 2, 0)]))[:-3],
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {os.path.normpath(OUT)}")
