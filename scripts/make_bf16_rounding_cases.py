#!/usr/bin/env python3
"""Golden float32 → bfloat16 roundings for BF16ProductTests, made by PyTorch (an implementation
independent of Lantern's): each line is `input bits, rounded bits` as float32 bit patterns.

    python scripts/make_bf16_rounding_cases.py

Normal numbers only: PyTorch keeps bfloat16 subnormals, AVX-512 BF16 (and so Lantern) flushes
them to zero; the tests check that case on their own.
"""
import struct

import torch

values = [1.0, -1.0, 1.00390625, 1.01171875, 1.0078125, 3.14159265, -2.718281828, 65504.0, 1e-30, -7.5e-20,
          3.3895313892515355e38, 3.4028234663852886e38, 0.1, 1 / 3, 123456.789, -0.000123456]
for v in values:
    x = torch.tensor([v], dtype=torch.float32)
    r = x.to(torch.bfloat16).to(torch.float32)
    bits_in = struct.unpack("<I", struct.pack("<f", x.item()))[0]
    bits_out = struct.unpack("<I", struct.pack("<f", r.item()))[0]
    print(f"(0x{bits_in:08x}, 0x{bits_out:08x}),  // {x.item()!r} → {r.item()!r}")
