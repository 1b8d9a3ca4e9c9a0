#!/usr/bin/env python3
"""Build the Hugging Face reference fixtures for Lantern's encoder–decoder family (T5, BART).

What it builds
--------------
Under ``Tests/TransformerTests/Fixtures/``, three random-weight models written by
``save_pretrained`` (float32 safetensors, tied weights stored once):

1. ``t5-tiny``        T5ForConditionalGeneration as T5 v1.0, with the T5-style Unigram tokenizer
   of ``t5-unigram`` (make it first: ``scripts/make_unigram_fixtures.py``; 230 ids, so the
   model has 230 rows): ReLU feed-forward, head tied to
   the shared embedding (so the decoder's output is scaled by d_model^-0.5 before it),
   d_model 48, d_kv 16 with 4 heads (inner width 64, not d_model: the two must not be
   confused), d_ff 96, 2 encoder and 3 decoder layers, 8 relative-position buckets with
   max_distance 20 (a 70-token source reaches the logarithmic buckets and the last one).
2. ``t5-tiny-gated``  the same shape as T5 v1.1 / FLAN-T5: gated-gelu feed-forward (gelu_new
   gate times a linear branch), untied ``lm_head`` (no rescaling), layer_norm_epsilon 1e-6.
3. ``bart-tiny``      BartForConditionalGeneration: d_model 48, 4 heads, 2 encoder and 2
   decoder layers, ffn 96, 64 positions (+2 offset rows), erf GELU, post-LN blocks, the
   embedding LayerNorm, scale_embedding true (√d_model; bart-base leaves it false),
   ``final_logits_bias`` random, decoder_start_token_id 2, forced BOS 0 and forced EOS 2.

Weights are drawn with std 0.2 (norm gains 1 ± 0.1) so attention is far from uniform and a
wrong mask, bias or scale shows.

``reference/`` in each, computed in float32 with eager attention on the saved folder
loaded back:
``source_ids.json`` (70 ids, ending in EOS), ``decoder_ids.json`` (the decoder start token,
then 11 ids), ``logits.npy`` [T, V] for every decoder row,
``encoder_hidden.npy`` [L_enc + 1, S, C] (HF ``encoder_hidden_states``: the embeddings as
they enter block 0, then each block's output; T5's last entry is after the final norm),
``encoder_attn.<l>.npy`` [head, S, S], ``decoder_attn.<l>.npy`` [head, T, T],
``cross_attn.<l>.npy`` [head, T, S], ``decoder_hidden.npy`` [L_dec + 1, T, C],
``cached_logits.npy`` [T, V]: the same decoder rows computed one at a time with the KV
cache (``past_key_values``), ``greedy.json``: ``model.generate`` greedy (num_beams 1, no
n-gram rule) for 16 new tokens — the ids after the start token — and ``meta.json``.
``t5-tiny/reference/text_greedy.json``: the same from a text prompt, end to end through the
tokenizer: the text, its ids, the generated ids and their decoding (special tokens skipped).

``bart-tiny/reference/training.json``: the gradient Lantern's sequence-to-sequence trainer must
reproduce. Two pairs of different lengths as one padded batch (attention_mask on the sources,
labels padded with -100): the mean cross-entropy over every label, and each parameter's Hugging
Face name and size, in the order of ``gradients.npy`` (every gradient, float32, concatenated).

How to run
----------
From the repository root::

    python scripts/make_encdec_fixtures.py

Needs torch, transformers, safetensors, numpy. Deterministic (fixed seeds, CPU, one thread).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import DynamicCache, EncoderDecoderCache, T5TokenizerFast, BartConfig, BartForConditionalGeneration, T5Config, T5ForConditionalGeneration

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests/TransformerTests/Fixtures"
VOCAB = 120
UNIGRAM = FIXTURES / "t5-unigram"


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def randomise(model: torch.nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def write_reference(folder: Path, model_cls, source: list[int], decoder: list[int]) -> None:
    ref = fresh(folder / "reference")
    model = model_cls.from_pretrained(folder, attn_implementation="eager").float().eval()
    src = torch.tensor([source])
    dec = torch.tensor([decoder])
    with torch.no_grad():
        out = model(input_ids=src, decoder_input_ids=dec, output_hidden_states=True, output_attentions=True)
    (ref / "source_ids.json").write_text(json.dumps(source) + "\n")
    (ref / "decoder_ids.json").write_text(json.dumps(decoder) + "\n")
    np.save(ref / "logits.npy", out.logits[0].numpy().astype(np.float32))
    np.save(ref / "encoder_hidden.npy", torch.stack(out.encoder_hidden_states)[:, 0].numpy().astype(np.float32))
    np.save(ref / "decoder_hidden.npy", torch.stack(out.decoder_hidden_states)[:, 0].numpy().astype(np.float32))
    for name, attentions in [("encoder_attn", out.encoder_attentions), ("decoder_attn", out.decoder_attentions),
                             ("cross_attn", out.cross_attentions)]:
        for layer, a in enumerate(attentions):
            np.save(ref / f"{name}.{layer}.npy", a[0].numpy().astype(np.float32))

    # The same rows one at a time through the cache.
    with torch.no_grad():
        encoder_out = model.get_encoder()(input_ids=src)
        # An explicit empty cache: the one transformers makes from the config is sized by
        # num_layers (the encoder's), too short for T5's extra decoder layer.
        past = EncoderDecoderCache(DynamicCache(), DynamicCache())
        rows = []
        for t in range(len(decoder)):
            step = model(encoder_outputs=encoder_out, decoder_input_ids=dec[:, t:t + 1], past_key_values=past,
                         use_cache=True)
            past = step.past_key_values
            rows.append(step.logits[0, -1])
    np.save(ref / "cached_logits.npy", torch.stack(rows).numpy().astype(np.float32))

    with torch.no_grad():
        generated = model.generate(src, max_new_tokens=16, do_sample=False, num_beams=1, no_repeat_ngram_size=0,
                                   early_stopping=False,
                                   past_key_values=EncoderDecoderCache(DynamicCache(), DynamicCache()))
    start = model.config.decoder_start_token_id
    ids = generated[0].tolist()
    assert ids[0] == start, ids
    (ref / "greedy.json").write_text(json.dumps({"decoder_start": start, "generated": ids[1:]}) + "\n")
    (ref / "meta.json").write_text(json.dumps({
        "transformers": transformers.__version__, "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters())}, indent=1) + "\n")


def write_training_reference(folder: Path) -> None:
    model = BartForConditionalGeneration.from_pretrained(folder, attn_implementation="eager").float()
    model.train()  # dropout is 0 in the config: train mode changes nothing but the autograd bookkeeping
    pairs = [([0, 17, 45, 9, 88, 2], [31, 64, 7, 2]), ([0, 5, 99, 23, 61, 14, 70, 33, 2], [12, 90, 2])]
    width = max(len(s) for s, _ in pairs)
    label_width = max(len(t) for _, t in pairs)
    inputs = torch.tensor([s + [1] * (width - len(s)) for s, _ in pairs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s, _ in pairs])
    labels = torch.tensor([t + [-100] * (label_width - len(t)) for _, t in pairs])
    model.zero_grad()
    out = model(input_ids=inputs, attention_mask=mask, labels=labels)
    out.loss.backward()
    # The tied head's gradient lands on the shared embedding (one parameter in torch).
    named = [(name, p.grad.flatten()) for name, p in model.named_parameters() if p.grad is not None]
    np.save(folder / "reference" / "gradients.npy", torch.cat([g for _, g in named]).numpy().astype(np.float32))
    (folder / "reference" / "training.json").write_text(json.dumps({
        "pairs": [{"source": s, "labels": t} for s, t in pairs], "loss": out.loss.item(),
        "gradients": [{"name": name, "count": g.numel()} for name, g in named]}, indent=1) + "\n")


def source_ids(rng: np.random.Generator, eos: int, count: int = 70) -> list[int]:
    # Ordinary ids (3 and up: 0 pad, 1/2 the special ids of both layouts), EOS last.
    return [int(i) for i in rng.integers(3, VOCAB, size=count - 1)] + [eos]


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(7)

    # 1. T5 v1.0: ReLU, tied head.
    t5 = fresh(FIXTURES / "t5-tiny")
    tokenizer = T5TokenizerFast.from_pretrained(UNIGRAM)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=48, d_kv=16, d_ff=96, num_layers=2, num_decoder_layers=3, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=20, feed_forward_proj="relu",
        layer_norm_epsilon=1e-6, tie_word_embeddings=True, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0, dropout_rate=0.0, n_positions=128)
    model = T5ForConditionalGeneration(config).eval()
    randomise(model, 1)
    model.tie_weights()
    model.save_pretrained(t5)
    decoder = [0] + [int(i) for i in rng.integers(2, VOCAB, size=11)]
    write_reference(t5, T5ForConditionalGeneration, source_ids(rng, eos=1), decoder)
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(UNIGRAM / name, t5 / name)
    model = T5ForConditionalGeneration.from_pretrained(t5, attn_implementation="eager").float().eval()
    text = "translate English to German: Mia found a red ball."
    ids = tokenizer(text)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=16, do_sample=False, num_beams=1, no_repeat_ngram_size=0,
                             past_key_values=EncoderDecoderCache(DynamicCache(), DynamicCache()))[0].tolist()
    (t5 / "reference" / "text_greedy.json").write_text(json.dumps({
        "text": text, "ids": ids, "generated": out[1:],
        "decoded": tokenizer.decode(out[1:], skip_special_tokens=True)}, ensure_ascii=False) + "\n")

    # 2. T5 v1.1 / FLAN-T5: gated-gelu, untied head.
    gated = fresh(FIXTURES / "t5-tiny-gated")
    config = T5Config(
        vocab_size=VOCAB, d_model=48, d_kv=16, d_ff=96, num_layers=2, num_decoder_layers=3, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=20, feed_forward_proj="gated-gelu",
        layer_norm_epsilon=1e-6, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0, dropout_rate=0.0, n_positions=128)
    model = T5ForConditionalGeneration(config).eval()
    randomise(model, 2)
    model.save_pretrained(gated)
    decoder = [0] + [int(i) for i in rng.integers(2, VOCAB, size=11)]
    write_reference(gated, T5ForConditionalGeneration, source_ids(rng, eos=1), decoder)

    # 3. BART.
    bart = fresh(FIXTURES / "bart-tiny")
    config = BartConfig(
        vocab_size=VOCAB, d_model=48, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=96, decoder_ffn_dim=96, max_position_embeddings=64,
        activation_function="gelu", scale_embedding=True, dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
        forced_bos_token_id=0, forced_eos_token_id=2, tie_word_embeddings=True)
    model = BartForConditionalGeneration(config).eval()
    randomise(model, 3)
    with torch.no_grad():
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
    model.tie_weights()
    # transformers 5 keeps the forced tokens in generation_config.json only (bart-base's
    # config.json still names them; Lantern reads either).
    model.generation_config.forced_bos_token_id = 0
    model.generation_config.forced_eos_token_id = 2
    model.save_pretrained(bart)
    source = [0] + source_ids(rng, eos=2, count=40)
    decoder = [2, 0] + [int(i) for i in rng.integers(3, VOCAB, size=10)]
    write_reference(bart, BartForConditionalGeneration, source, decoder)
    write_training_reference(bart)
    print("wrote", t5, gated, bart)


if __name__ == "__main__":
    main()
