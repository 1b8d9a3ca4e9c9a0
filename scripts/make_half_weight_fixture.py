#!/usr/bin/env python3
"""Reference logits for Lantern's 16-bit weight storage (`--weights f16|bf16`).

What it computes
----------------
For two float32 fixtures made by scripts/make_fixtures.py — ``gpt2-bytes-noprefix``
(GPT2LMHeadModel, untied head) and ``llama-tiny-gqa`` (LlamaForCausalLM, grouped-query
attention, untied head) — Hugging Face transformers' logits over the fixture's whole
sequence (prompt + generated ids) after rounding exactly the tensors Lantern keeps in 16
bits, then computing everything in float32 with eager attention:

- rounded: every 2-D weight matrix — token embedding, untied ``lm_head``, and every
  linear / Conv1D weight (GPT-2 ``c_attn``, ``c_proj``, ``c_fc``; Llama ``q/k/v/o_proj``,
  ``gate/up/down_proj``) — with PyTorch's round-to-nearest-even ``.to(float16|bfloat16)``
  and back to float32;
- kept in float32: GPT-2's learned position table ``wpe``, every norm weight and bias,
  every linear bias.

Writes ``reference/logits_weights_f16.npy`` and ``reference/logits_weights_bf16.npy``
([T, vocab], float32) into each fixture. Lantern's ReferenceMatchTests load the same
checkpoint with ``--weights f16|bf16`` and must match these within 1e-4.

How to run
----------
From the repository root, after scripts/make_fixtures.py::

    python scripts/make_half_weight_fixture.py

Needs torch, transformers, numpy. Deterministic (CPU, one thread).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "TransformerTests" / "Fixtures"
FORMATS = {"f16": torch.float16, "bf16": torch.bfloat16}


def kept_in_16_bits(name: str, tensor: torch.Tensor) -> bool:
    return tensor.dim() == 2 and not name.endswith("wpe.weight")


def main() -> None:
    torch.set_num_threads(1)
    for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"]:
        folder = FIXTURES / fixture
        ref = folder / "reference"
        ids = json.loads((ref / "prompt_ids.json").read_text()) + json.loads((ref / "generated_ids.json").read_text())
        for fmt, dtype in FORMATS.items():
            model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", torch_dtype=torch.float32)
            model.eval()
            rounded = []
            with torch.no_grad():
                for name, parameter in model.named_parameters():
                    if kept_in_16_bits(name, parameter):
                        parameter.copy_(parameter.to(dtype).to(torch.float32))
                        rounded.append(name)
                logits = model(torch.tensor([ids])).logits[0].float().numpy()
            np.save(ref / f"logits_weights_{fmt}.npy", logits.astype(np.float32))
            exact = np.load(ref / "logits.npy")
            print(f"{fixture} {fmt}: rounded {len(rounded)} matrices, logits {logits.shape}, "
                  f"max |Δ| vs float32 weights {np.abs(logits - exact).max():.3g}")


if __name__ == "__main__":
    main()
