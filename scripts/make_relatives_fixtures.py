"""Tiny random-weight relatives of GPT-2 and Llama, and what transformers computes for them (issue 23).

1. Tests/TransformerTests/Fixtures/gpt-neo-tiny/: a GPTNeoForCausalLM saved with
save_pretrained (safetensors, float32; hidden 32, 4 layers alternating global and local
attention with window_size 5, 4 heads, 128 positions, tied head) with the byte-level BPE
tokenizer of gpt2-bytes-noprefix (vocab.json + merges.txt, copied), and reference/:
  prompt_ids.json     the prompt below, tokenized by GPT2Tokenizer (longer than the window,
                      so the local layers' masks matter)
  generated_ids.json  12 greedy tokens (model.generate, EOS ignored)
  logits.npy          [T, V] float32, one forward over prompt + generated (eager attention)
  attn_pattern.L.npy  [H, T, T] per layer (local layers: zero beyond the window)
  meta.json           versions, settings, command
2. Tests/TransformerTests/Fixtures/mistral-tiny-window/: a MistralForCausalLM (Llama's shape:
   hidden 64, 2 layers, 8 query heads over 2 key/value heads, intermediate 96) with
   sliding_window 4 on every layer, the tokenizer.json of llama-tiny-gqa, and the same
   reference/ files for llama-tiny-gqa's reference prompt (its ids) + 12 greedy tokens.
Deterministic: fixed seeds, CPU, one thread.

Run: /work/venv/bin/python scripts/make_relatives_fixtures.py
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import GPT2Tokenizer, GPTNeoConfig, GPTNeoForCausalLM, MistralConfig, MistralForCausalLM

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "TransformerTests" / "Fixtures"
SOURCE = FIXTURES / "gpt2-bytes-noprefix"
OUT = FIXTURES / "gpt-neo-tiny"
MISTRAL = FIXTURES / "mistral-tiny-window"
PROMPT = "Once upon a time, the little robot read a book about the sea."
SEED, NEW_TOKENS = 2301, 12


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "reference").mkdir(parents=True)
    for name in ["vocab.json", "merges.txt"]:
        shutil.copy(SOURCE / name, OUT / name)
    vocab = json.loads((SOURCE / "config.json").read_text())["vocab_size"]
    config = GPTNeoConfig(
        vocab_size=vocab, max_position_embeddings=128, hidden_size=32, num_layers=4, num_heads=4,
        attention_types=[[["global", "local"], 2]], window_size=5, intermediate_size=None,
        activation_function="gelu_new", bos_token_id=vocab - 1, eos_token_id=vocab - 1)
    model = GPTNeoForCausalLM(config).eval()
    widen(model)
    model.save_pretrained(OUT, safe_serialization=True)
    model = GPTNeoForCausalLM.from_pretrained(OUT, attn_implementation="eager").float().eval()
    tokenizer = GPT2Tokenizer(vocab=str(OUT / "vocab.json"), merges=str(OUT / "merges.txt"))  # fast, in transformers 5
    prompt = tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    assert len(prompt) > 10, prompt
    generated = capture(model, prompt, OUT / "reference", {"prompt": PROMPT, "seed": SEED, "window_size": 5,
                                                           "attention_layers": config.attention_layers})
    print(f"gpt-neo-tiny: {len(prompt)} prompt + {len(generated)} generated tokens, layers {config.attention_layers}")
    mistral()


def widen(model) -> None:
    """Matrices drawn larger than the default initialisation, so attention is far from uniform."""
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.2)


def capture(model, prompt: list, ref: Path, settings: dict) -> list:
    """Greedy ids, logits and attention patterns of `model` over `prompt` + 12 tokens, into `ref`."""
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    ids = torch.tensor([prompt], dtype=torch.long)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
        generated = out[0, len(prompt):].tolist()
        result = model(out, output_attentions=True, use_cache=False)
    logits = result.logits[0].float().numpy()
    assert logits[len(prompt) - 1:-1].argmax(-1).tolist() == generated, "generate and the full forward disagree"
    ref.mkdir(parents=True, exist_ok=True)
    np.save(ref / "logits.npy", logits.astype(np.float32))
    for layer, pattern in enumerate(result.attentions):
        np.save(ref / f"attn_pattern.{layer}.npy", pattern[0].float().numpy().astype(np.float32))
    (ref / "prompt_ids.json").write_text(json.dumps(prompt) + "\n")
    (ref / "generated_ids.json").write_text(json.dumps(generated) + "\n")
    meta = {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "command": "python scripts/make_relatives_fixtures.py", **settings}
    (ref / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return generated


def mistral() -> None:
    torch.manual_seed(SEED + 1)
    if MISTRAL.exists():
        shutil.rmtree(MISTRAL)
    MISTRAL.mkdir(parents=True)
    llama = FIXTURES / "llama-tiny-gqa"
    shutil.copy(llama / "tokenizer.json", MISTRAL / "tokenizer.json")
    vocab = json.loads((llama / "config.json").read_text())["vocab_size"]
    config = MistralConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=2, max_position_embeddings=128, sliding_window=4, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2)
    model = MistralForCausalLM(config).eval()
    widen(model)
    model.save_pretrained(MISTRAL, safe_serialization=True)
    model = MistralForCausalLM.from_pretrained(MISTRAL, attn_implementation="eager").float().eval()
    prompt = json.loads((llama / "reference" / "prompt_ids.json").read_text())
    generated = capture(model, prompt, MISTRAL / "reference", {"sliding_window": 4, "seed": SEED + 1})
    print(f"mistral-tiny-window: {len(prompt)} prompt + {len(generated)} generated tokens, window 4")


if __name__ == "__main__":
    main()
