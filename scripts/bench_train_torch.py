#!/usr/bin/env python3
"""Training throughput of PyTorch (CPU) on the same GPT-2 shape and batch as `lantern bench --train`.

Hugging Face's GPT2LMHeadModel (tanh GELU, tied embeddings, no dropout), AdamW with weight decay,
gradient clipping at 1.0: one optimiser step per batch of random token windows, exactly the work a
Lantern training step does. Prints one JSON object per thread count and precision: f32, or bf16 =
`torch.autocast("cpu", dtype=torch.bfloat16)` around the forward pass (mixed precision: the
linear layers' and attention's products in bfloat16, weights and optimiser float32), what
`--precision bf16` is compared with.

    python scripts/bench_train_torch.py --threads 2 --layers 6 --heads 6 --width 192 \
        --context 128 --vocab 2048 --batch 16 --steps 10 [--precision f32 --precision bf16]

Needs: pip install "torch==2.13.0+cpu" transformers (not needed to build or test Lantern).
"""
import argparse
import json
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, action="append")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--width", type=int, default=192)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--precision", choices=["f32", "bf16"], action="append")
    args = parser.parse_args()
    for precision in args.precision or ["f32"]:
        for threads in args.threads or [1, 2]:
            measure(args, threads, precision)


def measure(args, threads, precision):
    """Times args.steps optimiser steps after two warm-up steps; prints one JSON line."""
    config = GPT2Config(n_layer=args.layers, n_head=args.heads, n_embd=args.width, n_positions=args.context,
                        vocab_size=args.vocab, activation_function="gelu_new",
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    generator = torch.Generator().manual_seed(5)

    def step():
        tokens = torch.randint(0, args.vocab, (args.batch, args.context + 1), generator=generator)
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(input_ids=inputs).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, args.vocab), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step(); step()  # warm-up
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    tokens_per_second = args.steps * args.batch * args.context / seconds
    print(json.dumps({"threads": threads, "precision": precision, "train_tokens_per_second": tokens_per_second,
                      "milliseconds_per_step": seconds * 1000 / args.steps,
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
