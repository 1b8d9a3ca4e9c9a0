"""Fixture for zero-shot classification: a tiny random-weight BartForSequenceClassification
with MNLI's label names, and what Hugging Face's zero-shot-classification pipeline computes
with it.

``Tests/TransformerTests/Fixtures/bart-mnli-tiny``: the model (the bart-large-mnli layout at
d_model 48: 2 encoder and 2 decoder layers, 4 heads, learned positions with offset 2, post-LN,
a classification head — dense, tanh, out_proj — on the decoder's state at the last </s>) and
the tokenizer of ``bart-bpe`` (a 401-entry byte-level BPE with RoBERTa's pair template
``<s> A </s></s> B </s>``). ``id2label`` is bart-large-mnli's: contradiction, neutral,
entailment.

``reference/zero_shot.json``: for each case, the pipeline's inputs (sequence, candidate
labels, hypothesis template, multi_label) and outputs (labels and scores, sorted as the pipeline
sorts them), plus, per candidate label in the order given, the premise–hypothesis ids and the
model's three logits — what Lantern must reproduce within 1e-4; where the premise's and the
hypothesis's tokens are among the ids (``premise`` and ``hypothesis_tokens``, [start, end), from
the fast tokenizer's ``sequence_ids``); and, for the first case, the encoder's attention of
layer 1, the hypothesis's rows over the premise's keys (``encoder_attention_1``,
``[head][hypothesis token][premise token]``): what ``lantern classify --attention`` draws.

How to run, from the repository root::

    python scripts/make_nli_fixture.py

Needs torch, transformers, safetensors. Deterministic (fixed seed, CPU).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from transformers import AutoTokenizer, BartConfig, BartForSequenceClassification, pipeline

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests/TransformerTests/Fixtures"
TOKENIZER = FIXTURES / "bart-bpe"
OUT = FIXTURES / "bart-mnli-tiny"

CASES = [
    ("one day I will see the world", ["travel", "cooking", "dancing"], "This example is {}.", False),
    ("one day I will see the world", ["travel", "cooking", "dancing"], "This example is {}.", True),
    ("The cat sat on the warm mat and slept.", ["animals", "sport", "politics", "food"], "This text is about {}.", False),
    ("The cat sat on the warm mat and slept.", ["animals", "sport", "politics", "food"], "This text is about {}.", True),
]


def main() -> None:
    torch.set_num_threads(1)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=48, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=96, decoder_ffn_dim=96, max_position_embeddings=128,
        activation_function="gelu", scale_embedding=False, dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, classifier_dropout=0.0, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        decoder_start_token_id=2, id2label=labels, label2id={v: k for k, v in labels.items()},
        tie_word_embeddings=True)
    torch.manual_seed(5)
    model = BartForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name.lower() or "layer_norm" in name.lower():
                p.copy_((1 + 0.1 * torch.randn_like(p)) if name.endswith("weight") else 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    model.save_pretrained(OUT)
    tokenizer.save_pretrained(OUT)

    classifier = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer, device="cpu")
    cases = []
    for sequence, candidates, template, multi in CASES:
        result = classifier(sequence, candidates, hypothesis_template=template, multi_label=multi)
        pairs = []
        for label in candidates:
            hypothesis = template.format(label)
            encoded = tokenizer(sequence, hypothesis, return_tensors="pt")
            with torch.no_grad():
                output = model(**encoded)
            sequence_ids = encoded.sequence_ids(0)
            spans = {
                name: [sequence_ids.index(which), len(sequence_ids) - sequence_ids[::-1].index(which)]
                for name, which in (("premise", 0), ("hypothesis_tokens", 1))}
            pair = {
                "label": label, "hypothesis": hypothesis, "ids": encoded["input_ids"][0].tolist(),
                "logits": output.logits[0].tolist(), **spans}
            if not cases:
                # Attention weights come back from the eager implementation only.
                model.set_attn_implementation("eager")
                with torch.no_grad():
                    attentions = model(**encoded, output_attentions=True).encoder_attentions
                model.set_attn_implementation("sdpa")
                (p0, p1), (h0, h1) = spans["premise"], spans["hypothesis_tokens"]
                pair["encoder_attention_1"] = attentions[1][0, :, h0:h1, p0:p1].tolist()
            pairs.append(pair)
        cases.append({
            "sequence": sequence, "candidate_labels": candidates, "hypothesis_template": template, "multi_label": multi,
            "labels": result["labels"], "scores": result["scores"], "pairs": pairs})
    (OUT / "reference").mkdir()
    (OUT / "reference" / "zero_shot.json").write_text(json.dumps(cases, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
