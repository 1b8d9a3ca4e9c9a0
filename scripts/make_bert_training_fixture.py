#!/usr/bin/env python3
"""PyTorch's masked-language loss and gradients for Lantern's BERT trainer to match.

On the committed random-weight BertForMaskedLM ``Tests/TransformerTests/Fixtures/bert-tiny-mlm``
(scripts/make_bert_fixtures.py), one batch of 2 sequences of 16 tokens with 6 positions masked
(inputs replaced by [MASK] or another token, labels the original ids, -100 elsewhere), in eval
mode (no dropout), float32. Writes ``Tests/TrainingTests/Fixtures/bert-mlm-step/``:
``batch.json`` (inputs, targets with -1 for "not scored", the loss) and ``gradients.safetensors``
(every parameter's gradient under its Hugging Face name; the decoder is tied to the word
embeddings, so that gradient holds both uses).

How to run (from the repository root)::

    python scripts/make_bert_training_fixture.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import BertForMaskedLM

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "Tests/TransformerTests/Fixtures/bert-tiny-mlm"
OUT = REPO / "Tests/TrainingTests/Fixtures/bert-mlm-step"


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = BertForMaskedLM.from_pretrained(MODEL, attn_implementation="eager").float().eval()
    V = model.config.vocab_size
    generator = torch.Generator().manual_seed(5)
    inputs = torch.randint(5, V, (2, 16), generator=generator)
    labels = torch.full((2, 16), -100)
    for b, t, replacement in [(0, 1, 4), (0, 7, 4), (0, 12, 77), (1, 0, 4), (1, 9, None), (1, 15, 4)]:
        labels[b, t] = inputs[b, t]
        if replacement is not None:
            inputs[b, t] = replacement  # [MASK] is id 4, or a random token
    out = model(input_ids=inputs, token_type_ids=torch.zeros_like(inputs), labels=labels)
    out.loss.backward()
    OUT.mkdir(parents=True, exist_ok=True)
    gradients = {name: p.grad.detach().contiguous() for name, p in model.named_parameters() if p.grad is not None}
    save_file(gradients, str(OUT / "gradients.safetensors"), metadata={"format": "pt"})
    targets = torch.where(labels >= 0, labels, torch.full_like(labels, -1))
    (OUT / "batch.json").write_text(json.dumps({
        "inputs": inputs.flatten().tolist(), "targets": targets.flatten().tolist(), "B": 2, "T": 16,
        "loss": out.loss.item(), "torch": torch.__version__,
    }, indent=1) + "\n")
    print("loss", out.loss.item(), "tensors", len(gradients), "->", OUT)


if __name__ == "__main__":
    main()
