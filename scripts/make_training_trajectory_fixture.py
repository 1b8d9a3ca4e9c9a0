#!/usr/bin/env python3
"""Build the PyTorch training-trajectory fixture for Lantern's TrainingTests.

Where ``make_training_fixture.py`` checks one gradient, this checks the whole training loop over
many steps: batch sampling, loss, backward, global-norm clipping, the warm-up + cosine learning
rate and AdamW with decoupled weight decay. If any of them differs from PyTorch, the losses part
within a few steps.

What it builds
--------------
``Tests/TrainingTests/Fixtures/gpt2-tiny-trajectory/``:

- ``config.json`` + ``model.safetensors``: the starting weights, a GPT2LMHeadModel (vocab 40,
  n_embd 16, 2 layers, 2 heads, context 128, gelu_new, tied embeddings) with Hugging Face's own
  initialisation, written by ``save_pretrained``. Context 128 makes Lantern's attention kernels
  split the causal rows into blocks, as they do in real runs.
- ``trajectory.json``: ``tokens`` (the whole token stream: random 6–14-token blocks, each repeated
  2–4 times, so there is something to learn), ``settings`` (Lantern's TrainingSettings names) and
  ``steps``: per step the ``loss`` on that step's batch, the gradient's global ``norm`` before
  clipping and the ``learning_rate`` used.
- ``final.safetensors``: every parameter after the last step, under the checkpoint's names.

The reference follows Lantern's documented rules, written out here from their definitions:
- the stream's last 5 % (at least context + 1 tokens) is validation; training windows come from
  the rest;
- step ``s`` (from 0) draws ``batch`` window starts, each ``next() % (len(training) - context)``,
  from a SplitMix64 seeded with the first output of a SplitMix64 seeded with
  ``seed + s * 0x9E3779B97F4A7C15`` (mod 2^64);
- the learning rate at step ``s`` is ``max * (s + 1) / warmup`` during warm-up, then a cosine
  from ``max`` to ``min`` at ``steps``;
- gradients are clipped to global norm 0.55, which some steps' norms pass and some do not
  (``torch.nn.utils.clip_grad_norm_``), then ``torch.optim.AdamW`` (betas 0.9, 0.95, eps 1e-8) steps with weight decay 0.1 on the
  embeddings and linear weights only.

Computed in float64 (the stored float32 weights converted exactly), so the reference carries no
float32 rounding; Lantern trains in float32.

How to run
----------
From the repository root::

    /work/venv/bin/python scripts/make_training_trajectory_fixture.py

Needs torch, transformers, safetensors. Deterministic: fixed seeds, CPU, one thread.
"""
import json
import math
import random
import shutil
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests/TrainingTests/Fixtures/gpt2-tiny-trajectory"
torch.set_num_threads(1)

VOCAB, WIDTH, LAYERS, HEADS, CONTEXT = 40, 16, 2, 2, 128
SETTINGS = {"steps": 30, "batchSize": 3, "learningRate": 2e-2, "minLearningRate": 2e-3, "warmupSteps": 5,
            "weightDecay": 0.1, "gradientClip": 0.55, "evaluationInterval": 1000, "evaluationBatches": 1, "seed": 2024}
MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def token_stream(count):
    rng = random.Random(7)
    tokens = []
    while len(tokens) < count:
        block = [rng.randrange(VOCAB) for _ in range(rng.randint(6, 14))]
        tokens += block * rng.randint(2, 4)
    return tokens[:count]


def learning_rate(step):
    s = SETTINGS
    if step < s["warmupSteps"]:
        return s["learningRate"] * (step + 1) / s["warmupSteps"]
    progress = (step - s["warmupSteps"]) / (s["steps"] - s["warmupSteps"])
    return s["minLearningRate"] + 0.5 * (1 + math.cos(math.pi * progress)) * (s["learningRate"] - s["minLearningRate"])


def main() -> None:
    config = GPT2Config(vocab_size=VOCAB, n_embd=WIDTH, n_layer=LAYERS, n_head=HEADS, n_positions=CONTEXT,
                        attn_implementation="eager", activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                        attn_pdrop=0.0, tie_word_embeddings=True, bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    model.save_pretrained(OUT, safe_serialization=True)
    (OUT / "generation_config.json").unlink(missing_ok=True)

    tokens = token_stream(3000)
    validation = max(CONTEXT + 1, int(len(tokens) * 0.05))
    training = torch.tensor(tokens[:len(tokens) - validation])

    model = model.double().train()
    params = dict(model.named_parameters())
    decayed = [p for name, p in params.items() if p.dim() >= 2]
    plain = [p for name, p in params.items() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": SETTINGS["weightDecay"]},
                                   {"params": plain, "weight_decay": 0.0}],
                                  lr=SETTINGS["learningRate"], betas=(0.9, 0.95), eps=1e-8)
    steps = []
    for step in range(SETTINGS["steps"]):
        draws = splitmix64(next(splitmix64((SETTINGS["seed"] + step * 0x9E3779B97F4A7C15) & MASK)))
        starts = [next(draws) % (len(training) - CONTEXT) for _ in range(SETTINGS["batchSize"])]
        windows = torch.stack([training[s:s + CONTEXT + 1] for s in starts])
        logits = model(input_ids=windows[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), windows[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), SETTINGS["gradientClip"])
        rate = learning_rate(step)
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.step()
        steps.append({"loss": loss.item(), "norm": norm.item(), "learning_rate": rate})

    final = {"transformer." + name.removeprefix("transformer."): p.detach().float().contiguous()
             for name, p in params.items()}
    save_file(final, OUT / "final.safetensors", metadata={"format": "pt"})
    (OUT / "trajectory.json").write_text(json.dumps({"tokens": tokens, "settings": SETTINGS, "steps": steps}) + "\n")
    (OUT / "README.md").write_text(
        "Made by scripts/make_training_trajectory_fixture.py (see its docstring); do not edit by hand.\n"
        f"torch {torch.__version__}, transformers {transformers.__version__}.\n")
    for path in OUT.iterdir():
        path.chmod(0o644)
    clipped = sum(s["norm"] > SETTINGS["gradientClip"] for s in steps)
    print(f"wrote {OUT}: loss {steps[0]['loss']:.4f} → {steps[-1]['loss']:.4f} over {len(steps)} steps, "
          f"clipped on {clipped} of them")


if __name__ == "__main__":
    main()
