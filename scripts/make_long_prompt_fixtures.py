#!/usr/bin/env python3
"""Long-prompt references for the engine's parallel paths (issue 18).

The committed fixtures' prompts are 8-11 tokens: too short for the engine's
parallel prefill attention (heads split over workers from T*K >= 4096) and
split matrix products. This script adds, to two committed fixture models
(their weights are not touched), a reference for a 96-token prompt of seeded
random ids plus 12 greedy tokens: Hugging Face transformers, float32, eager
attention.

Writes Tests/TransformerTests/Fixtures/<fixture>/reference/long/:
  prompt_ids.json      96 ids (numpy default_rng(seed), uniform over the vocabulary)
  generated_ids.json   12 ids, model.generate(do_sample=False), EOS ignored
  logits.npy           [108, V] float32, one forward over prompt+generated
  attn_pattern.L.npy   [H, 108, 108] float32 per layer
  meta.json            versions, seed, command

Run: /work/venv/bin/python scripts/make_long_prompt_fixtures.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import GPT2LMHeadModel, LlamaForCausalLM

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "TransformerTests" / "Fixtures"
PROMPT_TOKENS, NEW_TOKENS = 96, 12
MODELS = {"gpt2-bytes-noprefix": (GPT2LMHeadModel, 181), "llama-tiny-gqa": (LlamaForCausalLM, 182)}


def main() -> None:
    torch.set_num_threads(1)
    for name, (model_cls, seed) in MODELS.items():
        folder = FIXTURES / name
        out = folder / "reference" / "long"
        out.mkdir(parents=True, exist_ok=True)
        model = model_cls.from_pretrained(folder, attn_implementation="eager").float().eval()
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = 0
        vocab = model.config.vocab_size
        prompt = np.random.default_rng(seed).integers(0, vocab, PROMPT_TOKENS).tolist()
        ids = torch.tensor([prompt])
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
            generated = gen[0, PROMPT_TOKENS:].tolist()
            result = model(gen, output_attentions=True, use_cache=False)
        logits = result.logits[0].float().numpy()
        # The greedy tokens must be clear winners, or a 1e-6 difference could flip one.
        steps = logits[PROMPT_TOKENS - 1:-1]
        top2 = np.sort(steps, axis=-1)[:, -2:]
        margin = float((top2[:, 1] - top2[:, 0]).min())
        assert steps.argmax(-1).tolist() == generated, "generate and the full forward disagree"
        np.save(out / "logits.npy", logits.astype(np.float32))
        for layer, pattern in enumerate(result.attentions):
            np.save(out / f"attn_pattern.{layer}.npy", pattern[0].float().numpy().astype(np.float32))
        (out / "prompt_ids.json").write_text(json.dumps(prompt) + "\n")
        (out / "generated_ids.json").write_text(json.dumps(generated) + "\n")
        meta = {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0], "seed": seed, "prompt_tokens": PROMPT_TOKENS,
                "new_tokens": NEW_TOKENS, "smallest_greedy_margin": margin,
                "command": "python scripts/make_long_prompt_fixtures.py"}
        (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{name}: {PROMPT_TOKENS} + {NEW_TOKENS} tokens, smallest greedy margin {margin:.4f}")


if __name__ == "__main__":
    main()
