#!/usr/bin/env python3
"""Baseline CPU throughput of Hugging Face transformers (PyTorch), for comparison
with Lantern's engine.

Builds a model of a published shape with random weights (fixed seed, nothing is
downloaded), float32, eval mode, under torch.no_grad, and for each thread count
(torch.set_num_threads) measures:

- prefill: one forward over a 512-token prompt, best of 3 after a warm-up.
  Reported twice: as HF runs it by default (logits for every position) and
  with ``logits_to_keep=1`` (only the last row, which is all a generator needs).
- decode: 128 new tokens after a 16-token prompt using the KV cache. Default
  method "loop": the 16-token prompt is prefilled (not timed), then 128
  single-token forwards with ``past_key_values`` (a DynamicCache) and greedy
  argmax are timed; tokens/s = 128 / time. ``--decode-method generate`` times
  ``model.generate(do_sample=False, min_new_tokens=128, max_new_tokens=128)``
  instead (this includes the 16-token prefill). Best of ``--decode-repeats``
  after a short warm-up.
- peak RSS of the process (ru_maxrss) after each thread count's runs.
- the CPU seconds other processes used meanwhile (from /proc/stat), so a run
  disturbed by other work on the machine can be recognised and repeated.

Families:
  gpt2  (default) GPT-2 small: 12 layers, n_embd 768, 12 heads, vocab 50257,
        n_positions 1024, tied lm_head (124M parameters).
  llama 12 layers, hidden 768, 12 heads, 4 KV heads, intermediate 2048,
        vocab 32000, untied lm_head (~125M parameters).

Usage (from the repository root):
  python scripts/bench_hf.py                  # GPT-2 small, table
  python scripts/bench_hf.py --family llama --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time

import torch
import transformers
from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

transformers.logging.set_verbosity_error()
DEFAULT_THREADS = torch.get_num_threads()


def build(family: str, seed: int):
    torch.manual_seed(seed)
    if family == "gpt2":
        cfg = GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12)
        model = GPT2LMHeadModel(cfg)
    elif family == "llama":
        cfg = LlamaConfig(vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                          num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
                          rms_norm_eps=1e-5, tie_word_embeddings=False)
        model = LlamaForCausalLM(cfg)
    else:
        raise SystemExit(f"unknown family {family}")
    model = model.float().eval()
    n_params = sum(p.numel() for p in model.parameters())  # shared (tied) tensors counted once
    return model, cfg, n_params


def busy_cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has spent busy, CPU seconds of this process).
    Their difference over a run is how much other work competed with it (Linux only)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    own_s = own.ru_utime + own.ru_stime
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = sum(v[:8]) - v[3] - v[4]  # all but idle and iowait
        return busy / os.sysconf("SC_CLK_TCK"), own_s
    except (OSError, ValueError):
        return float("nan"), own_s


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def time_prefill(model, ids, repeats: int, **kw) -> float:
    model(ids, use_cache=True, **kw)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(ids, use_cache=True, **kw)
        best = min(best, time.perf_counter() - t0)
    return ids.shape[1] / best


def decode_loop(model, prompt, new_tokens: int) -> float:
    cache = DynamicCache(config=model.config)
    out = model(prompt, past_key_values=cache, use_cache=True, logits_to_keep=1)
    nxt = out.logits[:, -1:].argmax(-1)
    t0 = time.perf_counter()
    for _ in range(new_tokens):
        out = model(nxt, past_key_values=cache, use_cache=True)
        nxt = out.logits[:, -1:].argmax(-1)
    return new_tokens / (time.perf_counter() - t0)


def decode_generate(model, prompt, new_tokens: int) -> float:
    t0 = time.perf_counter()
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                         min_new_tokens=new_tokens, max_new_tokens=new_tokens, pad_token_id=0)
    dt = time.perf_counter() - t0
    assert out.shape[1] == prompt.shape[1] + new_tokens
    return new_tokens / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=["gpt2", "llama"], default="gpt2")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--prefill-tokens", type=int, default=512)
    ap.add_argument("--prefill-repeats", type=int, default=3)
    ap.add_argument("--decode-prompt", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--decode-repeats", type=int, default=2)
    ap.add_argument("--decode-method", choices=["loop", "generate"], default="loop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args()

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    model, cfg, n_params = build(args.family, args.seed)
    build_s = time.perf_counter() - t0
    rss_after_build = peak_rss_mb()
    g = torch.Generator().manual_seed(args.seed + 1)
    prefill_ids = torch.randint(0, cfg.vocab_size, (1, args.prefill_tokens), generator=g)
    decode_prompt = torch.randint(0, cfg.vocab_size, (1, args.decode_prompt), generator=g)
    decode = decode_loop if args.decode_method == "loop" else decode_generate

    results = []
    with torch.no_grad():
        for n in args.threads:
            torch.set_num_threads(n)
            busy0, own0 = busy_cpu_seconds()
            wall0 = time.perf_counter()
            prefill_all = time_prefill(model, prefill_ids, args.prefill_repeats)
            prefill_last = time_prefill(model, prefill_ids, args.prefill_repeats, logits_to_keep=1)
            decode(model, decode_prompt, 8)  # warm-up
            dec = max(decode(model, decode_prompt, args.new_tokens) for _ in range(args.decode_repeats))
            results.append({
                "threads": n,
                "prefill_tokens_per_s": round(prefill_all, 1),
                "prefill_last_logits_only_tokens_per_s": round(prefill_last, 1),
                "decode_tokens_per_s": round(dec, 2),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            })
            busy1, own1 = busy_cpu_seconds()
            results[-1]["wall_s"] = round(time.perf_counter() - wall0, 1)
            results[-1]["other_processes_cpu_s"] = round(max(0.0, (busy1 - busy0) - (own1 - own0)), 1)

    report = {
        "family": args.family,
        "parameters": n_params,
        "dtype": "float32",
        "config": {k: getattr(cfg, k) for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                "num_attention_heads") if hasattr(cfg, k)}
                  | ({"num_key_value_heads": cfg.num_key_value_heads, "intermediate_size": cfg.intermediate_size}
                     if args.family == "llama" else {}),
        "prefill": f"one forward over {args.prefill_tokens} tokens (use_cache=True), best of "
                   f"{args.prefill_repeats} after a warm-up; default = logits for every position, "
                   f"last_logits_only = logits_to_keep=1",
        "decode": (f"{args.new_tokens} single-token forwards with past_key_values (DynamicCache) and argmax "
                   f"after an untimed {args.decode_prompt}-token prefill" if args.decode_method == "loop" else
                   f"model.generate(do_sample=False, min_new_tokens=max_new_tokens={args.new_tokens}) after a "
                   f"{args.decode_prompt}-token prompt, prefill included in the time") +
                  f"; best of {args.decode_repeats} after a warm-up",
        "decode_method": args.decode_method,
        "build_seconds": round(build_s, 1),
        "peak_rss_mb_after_build": round(rss_after_build, 1),
        "results": results,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
        "machine": {"cpu": cpu_name(), "logical_cpus": os.cpu_count(),
                    "torch_default_threads": DEFAULT_THREADS,
                    "torch_parallel_backend": next((l.strip() for l in torch.__config__.parallel_info().splitlines()
                                                    if "parallel backend" in l), "unknown")},
        "loadavg_1_5_15_before": [round(x, 2) for x in load_before],
        "loadavg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join(["python", "scripts/bench_hf.py"] + sys.argv[1:]),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"Hugging Face transformers {transformers.__version__}, torch {torch.__version__}, {cpu_name()}")
    print(f"{args.family}: {n_params / 1e6:.1f}M parameters, float32, decode method: {args.decode_method}; "
          f"load average before {report['loadavg_1_5_15_before']}, after {report['loadavg_1_5_15_after']} "
          f"(other work on the machine skews the numbers)")
    print(f"{'threads':>7} | {'prefill tok/s':>13} | {'prefill (last logits) tok/s':>27} | "
          f"{'decode tok/s':>12} | {'peak RSS MB':>11} | {'other CPU s / wall s':>20}")
    print("-" * 107)
    for r in results:
        print(f"{r['threads']:>7} | {r['prefill_tokens_per_s']:>13.1f} | "
              f"{r['prefill_last_logits_only_tokens_per_s']:>27.1f} | {r['decode_tokens_per_s']:>12.2f} | "
              f"{r['peak_rss_mb']:>11.1f} | {str(r['other_processes_cpu_s']) + ' / ' + str(r['wall_s']):>20}")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
