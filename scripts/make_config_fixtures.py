#!/usr/bin/env python3
"""Fixtures for the config keys that change what a model computes (issue: no silent wrong answer).

What it builds
--------------
Tiny random-weight checkpoints saved by transformers 5 (``save_pretrained``), under
``Tests/TransformerTests/Fixtures/config-keys/<name>/``, each with ``reference/`` holding
what transformers computes for a 40-token sequence of random ids (float32, eager attention):
``ids.json`` and ``logits.npy`` [T, vocab]. The tokenizer files are copied from the fixtures of
scripts/make_fixtures.py (``llama-tiny-gqa``: 320 entries; ``gpt2-bytes-noprefix``: 297), so
each folder also runs as ``lantern … --model``.

- ``llama-rope-llama3``: LlamaForCausalLM, rope_theta 500000 and ``llama3`` RoPE scaling
  (factor 8, low/high frequency factors 1/4, original context 16, so that positions past 16
  feel it), saved in transformers 5's layout (``rope_parameters``).
- ``llama-rope-linear``: the same with ``linear`` scaling (factor 4) and rope_theta 1000.
- ``gpt2-unscaled-attention``: GPT2LMHeadModel with ``scale_attn_weights: false`` (scores
  not divided by sqrt(head size)).

For each Llama fixture, ``reference/config_transformers4.json`` is the same configuration
in transformers 4's layout (top-level ``rope_theta``, ``rope_scaling``); the script checks
that transformers 5 computes the same logits from it (max |Δ| printed, asserted < 1e-5), so a
test may swap it in for config.json and expect the same reference.

How to run
----------
From the repository root:  python scripts/make_config_fixtures.py
Needs torch, transformers (5.x), numpy. Deterministic (fixed seeds, CPU, one thread).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parent.parent / "Tests" / "TransformerTests" / "Fixtures" / "config-keys"
T = 40


def randomize(model: torch.nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, parameter in sorted(model.named_parameters()):
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)


def logits_of(model: torch.nn.Module, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def save(name: str, model: torch.nn.Module, vocab: int, seed: int, tokenizer: tuple[str, list[str]]) -> tuple[Path, list[int], np.ndarray]:
    folder = ROOT / name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "reference").mkdir(parents=True)
    model.save_pretrained(folder)
    source, files = tokenizer
    for file in files:
        shutil.copy(ROOT.parent / source / file, folder / file)
    ids = torch.randint(0, vocab, (T,), generator=torch.Generator().manual_seed(seed)).tolist()
    back = type(model).from_pretrained(folder, attn_implementation="eager").float().eval()
    logits = logits_of(back, ids)
    (folder / "reference" / "ids.json").write_text(json.dumps(ids) + "\n")
    np.save(folder / "reference" / "logits.npy", logits.astype(np.float32))
    return folder, ids, logits


def llama(name: str, rope_parameters: dict, seed: int) -> None:
    config = LlamaConfig(vocab_size=320, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         rope_parameters=rope_parameters, tie_word_embeddings=False)
    model = LlamaForCausalLM(config).eval()
    randomize(model, seed)
    folder, ids, logits = save(name, model, 320, seed + 1, ("llama-tiny-gqa", ["tokenizer.json"]))
    saved = json.loads((folder / "config.json").read_text())
    assert "rope_parameters" in saved and "rope_scaling" not in saved, saved
    # The same configuration as transformers 4 wrote it.
    legacy = {k: v for k, v in saved.items() if k != "rope_parameters"}
    parameters = dict(saved["rope_parameters"])
    legacy["rope_theta"] = parameters.pop("rope_theta")
    legacy["rope_scaling"] = None if parameters.get("rope_type") == "default" else parameters
    (folder / "reference" / "config_transformers4.json").write_text(json.dumps(legacy, indent=2) + "\n")
    check = folder.parent / (name + "-v4-check")
    shutil.copytree(folder, check, dirs_exist_ok=True)
    shutil.copy(folder / "reference" / "config_transformers4.json", check / "config.json")
    again = LlamaForCausalLM.from_pretrained(check, attn_implementation="eager").float().eval()
    shutil.rmtree(check)
    difference = float(np.abs(logits_of(again, ids) - logits).max())
    assert difference < 1e-5, difference
    plain = dict(saved["rope_parameters"], rope_type="default")
    for key in ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"]:
        plain.pop(key, None)
    unscaled = LlamaForCausalLM(LlamaConfig(**{**saved, "rope_parameters": plain})).eval()
    unscaled.load_state_dict(model.state_dict())
    print(f"{name}: logits {logits.shape}; transformers-4 layout max |Δ| {difference:.2g}; "
          f"without the scaling the logits would differ by {np.abs(logits_of(unscaled, ids) - logits).max():.3g}")


def gpt2_unscaled() -> None:
    config = GPT2Config(vocab_size=297, n_embd=32, n_layer=2, n_head=4, n_positions=64, scale_attn_weights=False)
    model = GPT2LMHeadModel(config).eval()
    randomize(model, 31)
    _, ids, logits = save("gpt2-unscaled-attention", model, 297, 32, ("gpt2-bytes-noprefix", ["vocab.json", "merges.txt"]))
    scaled = GPT2LMHeadModel(GPT2Config(**{**config.to_dict(), "scale_attn_weights": True})).eval()
    scaled.load_state_dict(model.state_dict())
    print(f"gpt2-unscaled-attention: logits {logits.shape}; with scaling they would differ by "
          f"{np.abs(logits_of(scaled, ids) - logits).max():.3g}")


def main() -> None:
    torch.set_num_threads(1)
    llama("llama-rope-llama3", {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 16}, 11)
    llama("llama-rope-linear", {"rope_type": "linear", "rope_theta": 1000.0, "factor": 4.0}, 21)
    gpt2_unscaled()


if __name__ == "__main__":
    main()
