#!/usr/bin/env python3
"""Build the PyTorch gradient fixture for Lantern's TrainingTests.

What it builds
--------------
``Tests/TrainingTests/Fixtures/gpt2-tiny-gradients/``:

- ``config.json`` + ``model.safetensors``: a GPT2LMHeadModel with vocab_size 11,
  n_embd 8, n_layer 2, n_head 2, n_positions 8, gelu_new, tied embeddings,
  written by ``save_pretrained`` (float32, keys with the ``transformer.``
  prefix, no ``lm_head.weight``). Its weights are scrambled away from GPT-2's
  initialisation (matrices std 0.3, embeddings std 0.5, biases std 0.1, norm
  gains 1 ± 0.1) so that every tensor's gradient is far from zero.
- ``batch.json``: ``inputs`` and ``targets``, each [B = 2][T = 5] token ids,
  and ``loss``, the mean cross-entropy of ``targets`` under the logits.
- ``gradients.safetensors``: d loss / d parameter for every tensor, under the
  checkpoint's own names (Conv1D weights in their ``[in, out]`` layout; the
  tied ``transformer.wte.weight`` gradient sums the embedding's and the
  unembedding's shares), float32.

Loss and gradients are computed in float64 (the stored float32 weights
converted exactly) with eager attention, so the reference itself carries no
float32 rounding.

How to run
----------
From the repository root::

    /work/venv/bin/python scripts/make_training_fixture.py

Needs torch, transformers, safetensors. Deterministic: fixed seeds, CPU, one thread.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests/TrainingTests/Fixtures/gpt2-tiny-gradients"
torch.set_num_threads(1)


def scramble(model: GPT2LMHeadModel, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith(("wte.weight", "wpe.weight")):
                p.copy_(0.5 * noise)
            elif ".ln_" in name and name.endswith(".weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith(".weight"):
                p.copy_(0.3 * noise)
            else:
                p.copy_(0.1 * noise)


def main() -> None:
    config = GPT2Config(vocab_size=11, n_embd=8, attn_implementation="eager", n_layer=2, n_head=2, n_positions=8,
                        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        tie_word_embeddings=True, bos_token_id=10, eos_token_id=10)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).eval()
    scramble(model, seed=1234)

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    model.save_pretrained(OUT, safe_serialization=True)
    for extra in ("generation_config.json",):
        (OUT / extra).unlink(missing_ok=True)

    g = torch.Generator().manual_seed(99)
    B, T = 2, 5
    inputs = torch.randint(0, config.vocab_size, (B, T), generator=g)
    targets = torch.randint(0, config.vocab_size, (B, T), generator=g)

    model = model.double()
    logits = model(input_ids=inputs).logits                      # [B, T, V]
    loss = torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
    loss.backward()

    gradients = {"transformer." + name.removeprefix("transformer."): p.grad.float().contiguous()
                 for name, p in model.named_parameters() if p.grad is not None}
    save_file(gradients, OUT / "gradients.safetensors", metadata={"format": "pt"})
    (OUT / "batch.json").write_text(json.dumps(
        {"inputs": inputs.tolist(), "targets": targets.tolist(), "loss": loss.item()}, indent=1) + "\n")
    (OUT / "README.md").write_text(
        "Made by scripts/make_training_fixture.py (see its docstring); do not edit by hand.\n"
        f"torch {torch.__version__}, transformers {transformers.__version__}.\n")
    for path in OUT.iterdir():
        path.chmod(0o644)
    print(f"wrote {OUT} (loss {loss.item():.6f}, {len(gradients)} gradient tensors)")


if __name__ == "__main__":
    main()
