#!/usr/bin/env python3
"""Build the Hugging Face reference fixtures for Lantern's TransformerTests.

What it builds
--------------
Four tiny, randomly initialised checkpoints in Hugging Face layout, each under
``Tests/TransformerTests/Fixtures/<name>/`` with a ``reference/`` subfolder that
holds what Hugging Face transformers computes for them:

1. ``gpt2-realvocab-f16``      GPT2LMHeadModel, n_embd 32, 2 layers, 4 heads,
   n_positions 64, the real 50,257-token GPT-2 vocabulary, float16, written by
   ``save_pretrained`` (keys keep the ``transformer.`` prefix; tied lm_head, so
   there is no ``lm_head.weight``). No tokenizer files are copied: tests read
   ``../shared/data/gpt2-tokenizer/``.
2. ``gpt2-bytes-noprefix``     GPT-2 with a tiny byte-level BPE vocabulary
   (256 byte characters in GPT-2's order + merges learned here from inline
   English + ``<|endoftext|>`` last), ``vocab.json`` + ``merges.txt``; n_embd 48,
   3 layers, 4 heads, n_positions 128, float32, untied ``lm_head.weight``, keys
   WITHOUT the ``transformer.`` prefix (like the published gpt2 checkpoint),
   written with ``safetensors.torch.save_file``.
3. ``gpt2-bytes-bf16-sharded`` same tokenizer as (2) but as one
   ``tokenizer.json``; n_embd 32, 2 layers, 2 heads, bfloat16, sharded
   safetensors with ``model.safetensors.index.json``.
4. ``llama-tiny-gqa``          LlamaForCausalLM, hidden 64, 2 layers, 8 heads,
   2 KV heads, intermediate 96, untied, float32, with a Llama-style
   SentencePiece BPE ``tokenizer.json`` (Metaspace, byte fallback, <unk>/<s>/</s>
   = 0/1/2, <0x00>..<0xFF> = 3..258) trained with the ``tokenizers`` library.

``reference/`` in each fixture: ``prompt_ids.json``, ``generated_ids.json``
(12 greedy tokens from ``model.generate(do_sample=False)``), and, for the whole
sequence prompt+generated, computed in float32 with eager attention on the
exact stored weights (saved folder loaded back, then ``.float()``):
``logits.npy`` [T, vocab], ``hidden_states.npy`` [n_layer+1, T, C] (HF
``output_hidden_states``: the LAST entry has the final norm applied),
``resid_final.npy`` [T, C] (output of the last block, before the final norm),
``attn_pattern.<L>.npy`` [head, T, T], ``meta.json`` and ``README.md``;
``tokenizer_cases.json`` for the fixtures that carry their own tokenizer.
Each fixture folder is emptied and rewritten, except the files other scripts
put there (``FOREIGN`` below, e.g. scripts/make_tokenizer_cases.py's
``llama-tiny-gqa/reference/sentencepiece_cases.json``), which are kept.

How to run
----------
From the repository root (it reads ``../shared/data/gpt2-tokenizer/``)::

    python scripts/make_fixtures.py

Needs torch, transformers, tokenizers, safetensors, numpy. Deterministic: fixed
seeds, CPU only, single thread; rerunning rewrites byte-identical files with the
same library versions.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

import safetensors
import tokenizers
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPT2Tokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    LlamaTokenizer,
)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "TransformerTests" / "Fixtures"
SHARED = REPO.parent / "shared" / "data"
GPT2_TOK_DIR = SHARED / "gpt2-tokenizer"
GPT2_VECTORS = SHARED / "gpt2-tokenizer-vectors"
COMMAND = "python scripts/make_fixtures.py"
NEW_TOKENS = 12
MIN_MARGIN = 0.05  # smallest accepted top-1/top-2 logit gap on the greedy steps

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
transformers.logging.set_verbosity_error()

# Inline English used to learn the tiny tokenizers (no downloads).
CORPUS = """\
Once upon a time there was a little robot who lived in a small house by the sea.
The robot liked to read books about the stars, the moon and the sun.
Every morning the teacher taught the students with the book, and the students
listened to the teacher. The cat sat on the mat and the dog sat by the door.
She said that the weather was fine, so they went out to play in the garden.
He thought about the story for a long time, and then he wrote it down.
The little girl and her mother walked to the market to buy bread and milk.
They were happy because the sun was shining and the birds were singing.
When the night came, the robot looked at the sky and counted the stars.
It is the end of the day, and there is nothing more to say.
The quick brown fox jumps over the lazy dog, and the lazy dog does not mind.
What do you think of the book? I think that the book is very good.
"""


# --------------------------------------------------------------------------- helpers

def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# Files inside a fixture that other scripts write; regenerating keeps them.
HALF = ["reference/logits_weights_f16.npy", "reference/logits_weights_bf16.npy"]  # scripts/make_half_weight_fixture.py
ATTRIBUTION = ["reference/attribution.json", "reference/ablation.json", "reference/patching.json"]  # make_attribution/ablation/patching_fixture.py
FOREIGN = {
    "llama-tiny-gqa": ["reference/sentencepiece_cases.json"] + HALF + ATTRIBUTION,  # scripts/make_tokenizer_cases.py
    "gpt2-bytes-noprefix": HALF + ATTRIBUTION,
}


def fresh_fixture(name: str) -> Path:
    """Empty Fixtures/<name>/ (so no stale file survives), keeping FOREIGN files."""
    path = FIXTURES / name
    kept = {rel: (path / rel).read_bytes() for rel in FOREIGN.get(name, []) if (path / rel).is_file()}
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    for rel, data in kept.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


def randomize(model: torch.nn.Module, seed: int, std: float = 0.2) -> None:
    """Deterministic init, independent of module construction order:
    2-D weights ~ N(0, std), biases ~ N(0, 0.1), norm weights ~ U(0.6, 1.4)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * std)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:  # LayerNorm / RMSNorm gain
                p.copy_(0.6 + 0.8 * torch.rand(p.shape, generator=g))


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable-unicode table (openai/gpt-2 encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def gpt2_real_vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    vocab = json.loads((GPT2_TOK_DIR / "encoder.json").read_text(encoding="utf-8"))
    lines = (GPT2_TOK_DIR / "vocab.bpe").read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("#version"), lines[0]
    merges = [tuple(l.split(" ")) for l in lines[1:] if l]
    return vocab, merges


def check_gpt2_tokenizer_against_vectors(tok) -> str:
    inp = (GPT2_VECTORS / "ggml-vocab-gpt-2.gguf.inp").read_text(encoding="utf-8")
    out = (GPT2_VECTORS / "ggml-vocab-gpt-2.gguf.out").read_text(encoding="utf-8").split("\n")
    texts = inp.split("\n__ggml_vocab_test__\n")
    if texts and texts[-1] == "":
        texts = texts[:-1]
    ok = 0
    for i, t in enumerate(texts):
        want = [int(x) for x in out[i].split()]
        got = tok(t, add_special_tokens=False)["input_ids"]
        assert got == want, (i, repr(t), got, want)
        ok += 1
    return f"{ok}/{len(texts)} llama.cpp GPT-2 tokenizer vectors match"


def learn_byte_bpe(text: str, n_merges: int) -> list[tuple[str, str]]:
    """Plain BPE learning on GPT-2 byte-level pre-tokens. Ties broken by the
    pair itself (lexicographic), so the result is fully deterministic."""
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    words = Counter(w for w, _ in pre.pre_tokenize_str(text))
    seqs = {w: list(w) for w in words}
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w in words:
            s, out, i = seqs[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


def byte_bpe_vocab(real_vocab: dict[str, int], n_merges: int = 40):
    """Tiny GPT-2-style vocab: ids 0..255 are exactly GPT-2's ids 0..255 (the
    byte characters), then one id per new merged token, then <|endoftext|>."""
    id_to_tok = {i: t for t, i in real_vocab.items()}
    base = [id_to_tok[i] for i in range(256)]
    assert sorted(base) == sorted(bytes_to_unicode().values())
    merges = learn_byte_bpe(CORPUS, n_merges)
    vocab = {t: i for i, t in enumerate(base)}
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab, merges


def train_llama_tokenizer(vocab_size: int, n_chars: int):
    """Llama-style SentencePiece BPE: <unk>,<s>,</s> = 0,1,2; <0x00>..<0xFF> =
    3..258; then the learned characters and merges. Trained with tokenizers'
    BpeTrainer on Metaspace pieces; the runtime pipeline is the one transformers'
    LlamaTokenizer (legacy=False) builds: Metaspace(prepend_scheme='first',
    split=False), BPE(byte_fallback=True, fuse_unk=True), BOS prepended."""
    n_fixed = 3 + 256
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - n_fixed, special_tokens=[], limit_alphabet=n_chars,
        initial_alphabet=[], show_progress=False,
    )
    t.train_from_iterator(CORPUS.split("\n"), trainer=trainer)
    model = json.loads(t.to_str())["model"]
    learned = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for tok, _ in learned:
        assert tok not in vocab, tok
        vocab[tok] = len(vocab)
    assert len(vocab) == vocab_size, (len(vocab), vocab_size)
    return vocab, merges


# --------------------------------------------------------------------------- reference

def capture_reference(folder: Path, model_cls, seed: int, prompt_ids: list[int], prompt_text: str,
                      extra_meta: dict, readme_notes: list[str]) -> dict:
    """Load the saved folder back, upcast to float32, eager attention; greedy
    generate 12 tokens; record logits / hidden states / attention for the
    whole sequence."""
    ref = folder / "reference"
    ref.mkdir(exist_ok=True)
    model, info = model_cls.from_pretrained(folder, attn_implementation="eager", output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    assert not problems, f"loading {folder.name}: {problems}"
    stored_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    model = model.float().eval()
    # Exactly NEW_TOKENS argmax steps: EOS neither stops nor is suppressed.
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0

    ids = torch.tensor([prompt_ids], dtype=torch.long)
    with torch.no_grad():
        gen = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
    generated = gen[0, len(prompt_ids):].tolist()
    assert len(generated) == NEW_TOKENS, generated

    full = torch.tensor([prompt_ids + generated], dtype=torch.long)
    last_block = model.base_model.h[-1] if hasattr(model.base_model, "h") else model.base_model.layers[-1]
    grabbed = {}

    def hook(_m, _inp, out):
        grabbed["resid_final"] = (out[0] if isinstance(out, tuple) else out).detach().clone()

    handle = last_block.register_forward_hook(hook)
    with torch.no_grad():
        out = model(full, output_hidden_states=True, output_attentions=True, use_cache=False)
    handle.remove()

    logits = out.logits[0].float().numpy()
    hidden = torch.stack([h[0] for h in out.hidden_states]).float().numpy()
    resid_final = grabbed["resid_final"][0].float().numpy()
    T = full.shape[1]

    # Consistency checks: greedy cached generation == argmax of the full forward;
    # HF's last hidden state == final norm(last block output).
    argmax = logits[len(prompt_ids) - 1: T - 1].argmax(-1).tolist()
    assert argmax == generated, (argmax, generated)
    top2 = np.sort(logits[len(prompt_ids) - 1: T - 1], axis=-1)[:, -2:]
    min_margin = float((top2[:, 1] - top2[:, 0]).min())
    final_norm = model.base_model.ln_f if hasattr(model.base_model, "ln_f") else model.base_model.norm
    with torch.no_grad():
        renormed = final_norm(grabbed["resid_final"])[0].numpy()
    assert np.allclose(renormed, hidden[-1], atol=1e-5), "last hidden state is not final-normed"
    with torch.no_grad():
        base = model.base_model
        if hasattr(base, "wte"):
            emb = base.wte(full)[0] + base.wpe(torch.arange(T))
        else:
            emb = base.embed_tokens(full)[0]
    assert np.array_equal(emb.numpy(), hidden[0]), "hidden_states[0] is not the embeddings"

    np.save(ref / "logits.npy", logits.astype(np.float32))
    np.save(ref / "hidden_states.npy", hidden.astype(np.float32))
    np.save(ref / "resid_final.npy", resid_final.astype(np.float32))
    attn_stats = []
    for L, a in enumerate(out.attentions):
        pat = a[0].float().numpy().astype(np.float32)  # [head, T, T]
        np.save(ref / f"attn_pattern.{L}.npy", pat)
        attn_stats.append(float(pat.max(-1).mean()))
    write_json(ref / "prompt_ids.json", prompt_ids)
    write_json(ref / "generated_ids.json", generated)

    cfg = model.config
    n_layer = cfg.num_hidden_layers
    meta = {
        "fixture": folder.name,
        "seed": seed,
        "command": COMMAND,
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__,
        },
        "model_class": model_cls.__name__,
        "stored_dtype": stored_dtype,
        "reference_dtype": "float32",
        "attn_implementation": "eager",
        "prompt_text": prompt_text,
        "prompt_ids": prompt_ids,
        "generated_ids": generated,
        "new_tokens": NEW_TOKENS,
        "sequence_length": T,
        "generation": "model.generate(do_sample=False, max_new_tokens=12, min_new_tokens=12) on the "
                      "float32-upcast stored weights, eos_token_id=None (EOS neither stops nor is suppressed); "
                      "checked equal to argmax of logits.npy rows [len(prompt)-1, T-2]",
        "min_top1_top2_logit_margin_on_generated_steps": min_margin,
        "files": {
            "logits.npy": [T, cfg.vocab_size],
            "hidden_states.npy": [n_layer + 1, T, cfg.hidden_size],
            "resid_final.npy": [T, cfg.hidden_size],
            **{f"attn_pattern.{L}.npy": [cfg.num_attention_heads, T, T] for L in range(n_layer)},
        },
        "stats": {
            "logits_std": float(logits.std()),
            "logits_absmax": float(np.abs(logits).max()),
            "mean_max_attention_prob_per_layer": attn_stats,
        },
        **extra_meta,
    }
    write_json(ref / "meta.json", meta)

    family_norm = "ln_f (LayerNorm)" if hasattr(model.base_model, "ln_f") else "norm (RMSNorm)"
    readme = f"""# Reference values for `{folder.name}`

Made by `{COMMAND}` (run from the repository root) with transformers
{transformers.__version__}, torch {torch.__version__}. Do not edit by hand.

Everything here was computed in **float32** with `attn_implementation="eager"`
on the exact stored weights: the saved folder was loaded back with
`{model_cls.__name__}.from_pretrained` (stored dtype: {stored_dtype}) and
upcast with `.float()`. Batch size 1, no padding, positions 0..T-1.

- `prompt_ids.json` — the prompt ids ({len(prompt_ids)} tokens) for
  {json.dumps(prompt_text)}.
- `generated_ids.json` — {NEW_TOKENS} greedy tokens from
  `model.generate(do_sample=False)` (KV cache) after the prompt. EOS does not
  stop or get suppressed: these are plain argmax steps, and they equal the
  argmax of `logits.npy` rows `len(prompt)-1 … T-2` (smallest top-1/top-2
  logit margin on those steps: {min_margin:.4f}).
- The whole sequence is prompt + generated, T = {T}.
- `logits.npy` — float32 `[T, vocab]` = `[{T}, {cfg.vocab_size}]`, one row per
  position (row t predicts token t+1).
- `hidden_states.npy` — float32 `[n_layer+1, T, C]` = `[{n_layer + 1}, {T}, {cfg.hidden_size}]`,
  Hugging Face `output_hidden_states`. Entry 0 is the input of block 0 (the
  embeddings{" wte+wpe" if hasattr(model.base_model, "wte") else ""}); entry i (1 ≤ i < n_layer) is the output of block
  i-1 (the residual stream). **The last entry (index n_layer) is NOT the raw
  output of the last block: Hugging Face applies the final norm,
  {family_norm}, to it.** The raw output of the last block is in
  `resid_final.npy`.
- `resid_final.npy` — float32 `[T, C]`, output of the last block before the
  final norm (captured with a forward hook).
- `attn_pattern.<L>.npy` — float32 `[head, T, T]` = `[head, query, key]`, the
  softmax attention probabilities of layer L (causal: zero above the diagonal),
  {cfg.num_attention_heads} heads.
- `meta.json` — versions, prompt text, ids, shapes, exact command, simple stats.
"""
    if readme_notes:
        readme += "\nNotes on this fixture:\n\n" + "\n".join(f"- {n}" for n in readme_notes) + "\n"
    (ref / "README.md").write_text(readme, encoding="utf-8")
    print(f"  T={T} logits std {logits.std():.3f} absmax {np.abs(logits).max():.2f}; "
          f"mean max-attn per layer {[round(x, 3) for x in attn_stats]}; min margin {min_margin:.4f}")
    print(f"  prompt {prompt_ids}\n  generated {generated}")
    return meta


def print_safetensors_layout(folder: Path) -> None:
    from safetensors import safe_open
    files = sorted(folder.glob("*.safetensors"))
    for f in files:
        with safe_open(f, framework="pt") as sf:
            for k in sf.keys():
                sl = sf.get_slice(k)
                print(f"    {f.name}: {k} {sl.get_dtype()} {list(sl.get_shape())}")


# --------------------------------------------------------------------------- fixtures

def gpt2_realvocab_f16(seed: int) -> dict:
    name = "gpt2-realvocab-f16"
    print(f"[{name}]")
    folder = fresh_fixture(name)
    vocab, merges = gpt2_real_vocab_and_merges()
    tok = GPT2Tokenizer(vocab=vocab, merges=merges)  # GPT2TokenizerFast is an alias in transformers 5
    check = check_gpt2_tokenizer_against_vectors(tok)
    print("  " + check)
    prompt = "The teacher taught the students with the book"
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]

    cfg = GPT2Config(vocab_size=50257, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                     bos_token_id=50256, eos_token_id=50256)
    model = GPT2LMHeadModel(cfg).eval()
    randomize(model, seed=seed)
    model.tie_weights()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    model.half().save_pretrained(folder, safe_serialization=True)
    print_safetensors_layout(folder)
    meta = capture_reference(folder, GPT2LMHeadModel, seed, prompt_ids, prompt, {
        "tokenizer": "GPT2TokenizerFast(vocab=../shared/data/gpt2-tokenizer/encoder.json, "
                     "merges=../shared/data/gpt2-tokenizer/vocab.bpe), add_special_tokens=False",
        "tokenizer_check": check,
    }, [
        "Tokenizer files are NOT in this folder: use ../shared/data/gpt2-tokenizer/ "
        "(encoder.json = vocab.json, vocab.bpe = merges.txt).",
        "Weights are float16 on disk; lm_head is tied to transformer.wte.weight and is not stored.",
        "GPT-2 stores attention/MLP projections as Conv1D: weight is [in, out] "
        "(x @ W + b), the transpose of nn.Linear. c_attn packs q|k|v along the output axis.",
        "GPT-2 MLP activation is gelu_new (tanh approximation); LayerNorm eps 1e-5.",
    ])
    return meta


def gpt2_bytes_noprefix(vocab: dict[str, int], merges: list[tuple[str, str]], seed: int) -> dict:
    name = "gpt2-bytes-noprefix"
    print(f"[{name}]")
    folder = fresh_fixture(name)
    write_json(folder / "vocab.json", vocab)
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n", encoding="utf-8")
    tok = GPT2Tokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    tok2 = GPT2Tokenizer(vocab=vocab, merges=merges)
    prompt = "Once upon a time, the little robot read a book."
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert prompt_ids == tok2(prompt, add_special_tokens=False)["input_ids"]

    eot = vocab["<|endoftext|>"]
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=48, n_layer=3, n_head=4,
                     bos_token_id=eot, eos_token_id=eot, tie_word_embeddings=False)
    cfg.architectures = ["GPT2LMHeadModel"]
    model = GPT2LMHeadModel(cfg).eval()
    randomize(model, seed=seed)
    assert model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr()
    sd = {}
    for k, v in model.state_dict().items():
        if k.endswith(".attn.bias") or k.endswith(".attn.masked_bias"):
            continue  # causal-mask buffers, not weights (not present in transformers 5 anyway)
        k = k[len("transformer."):] if k.startswith("transformer.") else k
        sd[k] = v.detach().to(torch.float32).contiguous().clone()
    save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})
    cfg.save_pretrained(folder)
    print_safetensors_layout(folder)

    # Round trip: loads with nothing missing/unexpected and gives identical logits.
    back, info = GPT2LMHeadModel.from_pretrained(folder, output_loading_info=True)
    assert not any(info.values()), info
    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        a, b = model(ids).logits, back.eval()(ids).logits
    assert torch.equal(a, b), (a - b).abs().max()
    print("  round trip: no missing/unexpected keys, identical logits")

    meta = capture_reference(folder, GPT2LMHeadModel, seed, prompt_ids, prompt, {
        "tokenizer": "GPT2TokenizerFast(vocab=vocab.json, merges=merges.txt), add_special_tokens=False",
        "round_trip": "GPT2LMHeadModel.from_pretrained: no missing/unexpected/mismatched keys; logits identical",
    }, [
        "State-dict keys have NO `transformer.` prefix (like the published gpt2 checkpoint) "
        "and there is a separate, untied `lm_head.weight` [vocab, C] (config tie_word_embeddings=false).",
        "model.safetensors was written with safetensors.torch.save_file, not save_pretrained.",
        "Vocabulary: ids 0..255 are GPT-2's byte characters in GPT-2's own order (identical to "
        "ids 0..255 of the real encoder.json), then the tokens of the learned merges, then <|endoftext|> last.",
        "GPT-2 stores attention/MLP projections as Conv1D: weight is [in, out] (x @ W + b).",
    ])
    write_tokenizer_cases(folder, tok, add_special_tokens=False)
    return meta


def gpt2_bytes_bf16_sharded(vocab: dict[str, int], merges: list[tuple[str, str]], seed: int) -> dict:
    name = "gpt2-bytes-bf16-sharded"
    print(f"[{name}]")
    folder = fresh_fixture(name)
    tok = GPT2Tokenizer(vocab=vocab, merges=merges)
    tok.save_pretrained(folder)
    for extra in ("vocab.json", "merges.txt", "special_tokens_map.json"):
        (folder / extra).unlink(missing_ok=True)
    # Reload from tokenizer.json only, like a consumer would.
    tok = GPT2Tokenizer.from_pretrained(folder)
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    prompt = "Once upon a time, the little robot read a book."
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    assert prompt_ids == raw.encode(prompt, add_special_tokens=False).ids
    assert prompt_ids == GPT2Tokenizer(vocab=vocab, merges=merges)(prompt, add_special_tokens=False)["input_ids"]

    eot = vocab["<|endoftext|>"]
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                     bos_token_id=eot, eos_token_id=eot)
    model = GPT2LMHeadModel(cfg).eval()
    randomize(model, seed=seed)
    model.tie_weights()
    model.to(torch.bfloat16).save_pretrained(folder, safe_serialization=True, max_shard_size="32KB")
    shards = sorted(folder.glob("model-*.safetensors"))
    assert (folder / "model.safetensors.index.json").exists() and 2 <= len(shards) <= 3, shards
    print_safetensors_layout(folder)
    meta = capture_reference(folder, GPT2LMHeadModel, seed, prompt_ids, prompt, {
        "tokenizer": "tokenizer.json (GPT2TokenizerFast save of the gpt2-bytes-noprefix vocab/merges), "
                     "add_special_tokens=False",
        "shards": [s.name for s in shards],
    }, [
        f"Weights are bfloat16 on disk, in {len(shards)} shards listed by model.safetensors.index.json "
        "(weight_map: tensor name -> shard file); keys keep the `transformer.` prefix; lm_head is tied and not stored.",
        "The tokenizer is the same vocabulary/merges as gpt2-bytes-noprefix, as a single tokenizer.json.",
        "GPT-2 stores attention/MLP projections as Conv1D: weight is [in, out] (x @ W + b).",
    ])
    write_tokenizer_cases(folder, tok, add_special_tokens=False)
    return meta


def llama_tiny_gqa(seed: int) -> dict:
    name = "llama-tiny-gqa"
    print(f"[{name}]")
    folder = fresh_fixture(name)
    vocab_size = 320
    vocab, merges = train_llama_tokenizer(vocab_size, n_chars=26)
    tok = LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True, add_eos_token=False)  # legacy=False, add_prefix_space -> prepend_scheme 'first'
    tok.save_pretrained(folder)
    (folder / "special_tokens_map.json").unlink(missing_ok=True)
    tok = LlamaTokenizer.from_pretrained(folder)
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    prompt = "Once upon a time there was a little robot"
    prompt_ids = tok(prompt)["input_ids"]
    assert prompt_ids[0] == 1, prompt_ids
    assert prompt_ids == raw.encode(prompt).ids, (prompt_ids, raw.encode(prompt).ids)

    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=128,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                      bos_token_id=1, eos_token_id=2, pad_token_id=None, hidden_act="silu")
    model = LlamaForCausalLM(cfg).eval()
    randomize(model, seed=seed)
    model.save_pretrained(folder, safe_serialization=True)
    print_safetensors_layout(folder)
    meta = capture_reference(folder, LlamaForCausalLM, seed, prompt_ids, prompt, {
        "tokenizer": "LlamaTokenizerFast.from_pretrained(fixture) == tokenizers.Tokenizer.from_file(tokenizer.json); "
                     "add_special_tokens=True (BOS <s>=1 prepended)",
    }, [
        "Keys: model.embed_tokens.weight, model.layers.N.{input_layernorm,post_attention_layernorm}.weight, "
        "model.layers.N.self_attn.{q,k,v,o}_proj.weight, model.layers.N.mlp.{gate,up,down}_proj.weight, "
        "model.norm.weight, lm_head.weight. Projections are nn.Linear: weight is [out, in] (y = x @ W.T), no biases.",
        "Grouped-query attention: 8 query heads share 2 key/value heads (query head h uses KV head h // 4); "
        "head_dim 8; k_proj/v_proj are [16, 64].",
        "RoPE is Hugging Face's 'rotate_half' form: dimension i is paired with i + head_dim/2 "
        "(NOT the interleaved pairs (2i, 2i+1) of llama2.c/Meta checkpoints; HF conversion permutes q/k "
        "rows to compensate). inv_freq[i] = theta^(-2i/head_dim), theta 10000.",
        "RMSNorm: x * rsqrt(mean(x^2) + 1e-5) * weight, computed in float32. MLP: down(silu(gate(x)) * up(x)).",
        "In transformers 5, config.json stores rope_theta inside `rope_parameters` "
        "({\"rope_type\": \"default\", \"rope_theta\": 10000.0}); older files have a top-level `rope_theta`.",
        "attn_pattern has one map per QUERY head (8), not per KV head.",
        "Tokenizer (tokenizer.json, what transformers 5 LlamaTokenizer(legacy=False) builds): no normalizer; "
        "pre_tokenizer Metaspace(replacement='▁', prepend_scheme='first', split=False), i.e. spaces become '▁' "
        "and one '▁' is prepended to the start of the text (not after special tokens), and the whole text is ONE "
        "BPE word (merges may in principle cross '▁'); BPE by merge rank with byte_fallback (characters "
        "outside the vocab become <0xXX> tokens of their UTF-8 bytes, ids 3 + byte) and fuse_unk; "
        "post_processor TemplateProcessing '<s> $A' (BOS id 1, no EOS). Only 26 characters are in the "
        "vocabulary, so capitals such as 'O', digits and non-ASCII use byte fallback. Literal '<s>'/'</s>' in "
        "the text are matched as special tokens. tokenizer_config.json has no add_bos_token key: the BOS comes "
        "from tokenizer.json's post_processor.",
    ])
    write_tokenizer_cases(folder, tok, add_special_tokens=True, raw=raw)
    return meta


def write_tokenizer_cases(folder: Path, tok, add_special_tokens: bool, raw: Tokenizer | None = None) -> None:
    cases = [
        "Once upon a time there was a little robot",
        "Hello world",
        " leading space",
        "two  spaces and a trailing space ",
        "tab\tand\nnew line\n\n",
        "The teacher taught the students with the book.",
        "Café, naïve — 日本 😀",
        "1234 + 5678 = 6912",
        "It's the robot's book, isn't it?",
        "",
        "   ",
    ]
    if add_special_tokens:
        cases.append("special <s> and </s> in text")
    out = []
    for text in cases:
        ids = tok(text, add_special_tokens=add_special_tokens)["input_ids"]
        if raw is not None:
            assert ids == raw.encode(text, add_special_tokens=add_special_tokens).ids, text
        out.append({
            "text": text,
            "ids": ids,
            "tokens": tok.convert_ids_to_tokens(ids),
            "decoded": tok.decode(ids, skip_special_tokens=True),
        })
    write_json(folder / "reference" / "tokenizer_cases.json", {
        "add_special_tokens": add_special_tokens,
        "note": ("ids from transformers' LlamaTokenizerFast (== tokenizers.Tokenizer from tokenizer.json) with "
                 "add_special_tokens=True: BOS <s>=1 prepended, no EOS; special tokens written literally in "
                 "the text ARE matched as special tokens. 'decoded' is decode(ids, skip_special_tokens=True)."
                 if add_special_tokens else
                 "ids from transformers' GPT2TokenizerFast with add_special_tokens=False (GPT-2 adds no BOS). "
                 "'decoded' is decode(ids, skip_special_tokens=True)."),
        "cases": out,
    })


def build(builder, *args, first_seed: int) -> None:
    """Run a fixture builder with seeds first_seed, first_seed+1, ... until the
    greedy steps have a clear winner (top-1/top-2 logit margin >= MIN_MARGIN),
    so a port's float32 rounding cannot flip a recorded argmax."""
    for seed in range(first_seed, first_seed + 50):
        meta = builder(*args, seed=seed)
        if meta["min_top1_top2_logit_margin_on_generated_steps"] >= MIN_MARGIN:
            return
        print(f"  seed {seed}: smallest margin below {MIN_MARGIN}, trying seed {seed + 1}")
    raise SystemExit("no seed gave a clear greedy margin")


def main() -> None:
    if not GPT2_TOK_DIR.is_dir():
        sys.exit(f"missing {GPT2_TOK_DIR} (run from the repository root with ../shared/data present)")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    build(gpt2_realvocab_f16, first_seed=1000)
    real_vocab, _ = gpt2_real_vocab_and_merges()
    vocab, merges = byte_bpe_vocab(real_vocab, n_merges=40)
    print(f"byte BPE: {len(vocab)} tokens, {len(merges)} merges: {merges}")
    build(gpt2_bytes_noprefix, vocab, merges, first_seed=2001)
    build(gpt2_bytes_bf16_sharded, vocab, merges, first_seed=3011)
    build(llama_tiny_gqa, first_seed=4000)
    for f in FIXTURES.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)  # save_pretrained writes some files 0600
    total = sum(f.stat().st_size for f in FIXTURES.rglob("*") if f.is_file())
    print(f"Fixtures total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
