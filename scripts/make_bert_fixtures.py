#!/usr/bin/env python3
"""Build the Hugging Face reference fixtures for Lantern's encoder-only (BERT) family.

What it builds
--------------
Under ``Tests/TransformerTests/Fixtures/``:

1. ``bert-tiny-mlm``     BertForMaskedLM, hidden 48, 3 layers, 4 heads, intermediate 96,
   64 positions, 2 token types, erf GELU, layer_norm_eps 1e-12, float32, written by
   ``save_pretrained`` (keys ``bert.…`` and ``cls.predictions.…``; the decoder tied to the
   word embeddings). Weights are drawn with std 0.2 (not BERT's 0.02) so attention is far
   from uniform and a wrong mask or scale shows. Its tokenizer is an uncased WordPiece
   (BertNormalizer lowercase + accent stripping + CJK spacing, BertPreTokenizer, ``##``
   continuation, [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1) trained here with the
   ``tokenizers`` library on the inline text below, saved by ``BertTokenizerFast`` as
   ``tokenizer.json`` + ``tokenizer_config.json``.
2. ``bert-tiny-base``    BertModel (no MLM head, with pooler) of the same shape, saved with
   keys WITHOUT the ``bert.`` prefix, as sentence-transformers checkpoints (MiniLM) are,
   with only ``vocab.txt`` + ``tokenizer_config.json`` (no tokenizer.json): the other way
   a BERT folder carries its tokenizer.
3. ``wordpiece-cased``   tokenizer files only: a cased WordPiece (no lower-casing, no accent
   stripping), max_input_chars_per_word 20, as ``tokenizer.json``.

``reference/`` in the model fixtures, computed in float32 with eager attention on the
stored weights (saved folder loaded back):
``prompt_ids.json`` / ``token_types.json`` (a sentence pair with two [MASK]s),
``logits.npy`` [T, V] (MLM only), ``hidden_states.npy`` [L+1, T, C] (HF
``output_hidden_states``: embeddings after their LayerNorm, then each layer's output),
``attn_pattern.<L>.npy`` [head, T, T], ``batch.json`` (two sentences of different lengths
run as one padded batch with an attention mask: their ids and, per sentence, the last
hidden state of its real rows, which must equal the sentence run alone) and
``meta.json`` (library versions; parameter count, torch's, tied weights once, and the
pooler's share, which Lantern does not load) and ``mean_pooled.json`` (mean over real rows of the last hidden state, then L2-normalised:
sentence-transformers' pooling).
``tokenizer_cases.json`` beside every tokenizer: a few hundred strings (and pairs) with the
ids, token type ids and pieces HF's fast tokenizer gives (``add_special_tokens=True``).

How to run
----------
From the repository root::

    python scripts/make_bert_fixtures.py

Needs torch, transformers, tokenizers, safetensors, numpy. Deterministic (fixed seeds, CPU,
one thread).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForMaskedLM, BertModel, BertTokenizerFast

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests/TransformerTests/Fixtures"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

TRAINING_TEXT = """
Once upon a time, Mia found a shiny stone in the garden. She showed it to her brother Tom.
"Look!" she said. "It's blue, and it sparkles." Tom smiled: the stone was beautiful.
The cat sat on the mat; the dog slept by the door. Birds sang in the old oak tree.
A café in Zürich serves crème brûlée and naïve coffee; the señor ordered jalapeños.
Élodie and Øyvind visited Ångström's lab in São Paulo. Façade, résumé, déjà vu, fiancée.
我爱北京天安门。 今天天气很好。 東京タワーは高いです。 한국어 문장도 있어요.
Numbers: 3.14159, 2,718, 42%, $19.99, #1, @home, e-mail, well-known, state-of-the-art.
Punctuation!? (brackets) [square] {curly} <angle> "quotes" 'single' — dashes – and … ellipses.
Machine learning models read tokens; transformers attend to every word before and after.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Sentence embeddings place similar sentences close together. Attention looks both ways.
""" * 3


def train_wordpiece(lowercase: bool, strip_accents: bool | None, vocab_size: int, max_chars: int) -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=max_chars))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=strip_accents, lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=1)
    tok.train_from_iterator(TRAINING_TEXT.splitlines(), trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


CASES = [
    "", " ", "Hello, world!", "hello world", "HELLO WORLD", "The cat sat on the [MASK].",
    "The [MASK] sat on the [MASK].", "[MASK]", "[mask] is not special", "[CLS] inside text [SEP]",
    "  leading and trailing spaces  ", "tabs\tand\nnewlines\r\nhere", "multiple     spaces",
    "café crème brûlée", "CAFÉ CRÈME", "naïve façade résumé", "Ångström Øyvind Élodie",
    "São Paulo", "jalapeños señor", "Zürich", "déjà vu", "e\u0301 combining acute",
    "n\u0303 combining tilde", "\u00c5 vs A\u030a", "ﬁ ligature", "ß straße", "İstanbul ıi",
    "ΣΑΣ σας", "Ελληνικά", "Русский текст", "我爱北京天安门", "今天天气很好。", "mixed中文text",
    "東京タワー", "ひらがな", "한국어", "emoji 😀 here", "👍🏽 thumbs", "family 👨‍👩‍👧",
    "zero\u200bwidth", "soft\u00adhyphen", "nbsp\u00a0space", "ideographic\u3000space",
    "line\u2028separator", "control\u0007bell", "nul\u0000char", "replacement\ufffdchar",
    "bidi\u200emark", "a" * 30, "b" * 101, "supercalifragilisticexpialidocious",
    "unbelievably", "state-of-the-art", "well-known", "e-mail", "3.14159", "2,718", "42%",
    "$19.99", "#1 @home", "(brackets) [square] {curly} <angle>", "\"quotes\" 'single'",
    "dashes — and – ellipses…", "!!!???", "...", "a.b.c", "U.S.A.", "Mr. Smith's dog",
    "don't can't won't", "x" * 100, "y" * 120 + " short", "Transformers", "TRANSFORMERS",
    "¿Qué? ¡Sí!", "«guillemets»", "„German“ quotes", "‘curly’ “double”", "© ® ™ ° ± × ÷",
    "½ ¼ ¾", "١٢٣ arabic digits", "العربية", "עברית", "हिन्दी", "ไทย", "Tiếng Việt",
]


def generated_cases(rng: np.random.Generator, count: int) -> list[str]:
    words = TRAINING_TEXT.split()
    out = []
    for _ in range(count):
        n = int(rng.integers(1, 14))
        picked = [words[int(rng.integers(0, len(words)))] for _ in range(n)]
        if rng.random() < 0.3:
            picked[int(rng.integers(0, n))] = "[MASK]"
        if rng.random() < 0.3:
            picked = [w.upper() if rng.random() < 0.5 else w for w in picked]
        sep = " " if rng.random() < 0.8 else "  "
        out.append(sep.join(picked))
    return out


def tokenizer_cases(fast: BertTokenizerFast, rng: np.random.Generator) -> dict:
    singles = CASES + generated_cases(rng, 220)
    pairs = [(singles[int(rng.integers(0, len(singles)))], singles[int(rng.integers(0, len(singles)))]) for _ in range(40)]
    pairs += [("The cat sat on the mat.", "A cat is sitting."), ("", "second only"), ("first only", "")]

    def entry(enc, **text):
        return dict(text, ids=enc["input_ids"], token_types=enc["token_type_ids"],
                    pieces=fast.convert_ids_to_tokens(enc["input_ids"]))

    return {
        "library": f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}",
        "singles": [entry(fast(s), text=s) for s in singles],
        "pairs": [entry(fast(a, b), text=a, pair=b) for a, b in pairs],
    }


def save_cases(folder: Path, fast: BertTokenizerFast, seed: int) -> None:
    cases = tokenizer_cases(fast, np.random.default_rng(seed))
    (folder / "tokenizer_cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n")


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def randomise(model: torch.nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def write_reference(folder: Path, model_cls, fast: BertTokenizerFast) -> None:
    ref = fresh(folder / "reference")
    model = model_cls.from_pretrained(folder, attn_implementation="eager").float().eval()
    enc = fast("The little [MASK] found a shiny stone in the garden.", "She showed it to her [MASK] Tom!")
    ids = torch.tensor([enc["input_ids"]])
    types = torch.tensor([enc["token_type_ids"]])
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, output_hidden_states=True, output_attentions=True)
    (ref / "prompt_ids.json").write_text(json.dumps(enc["input_ids"]) + "\n")
    pooler = sum(p.numel() for n, p in model.named_parameters() if "pooler" in n)
    (ref / "meta.json").write_text(json.dumps({
        "transformers": transformers.__version__, "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters()), "pooler_parameters": pooler}, indent=1) + "\n")
    (ref / "token_types.json").write_text(json.dumps(enc["token_type_ids"]) + "\n")
    if hasattr(out, "logits"):
        np.save(ref / "logits.npy", out.logits[0].numpy().astype(np.float32))
    np.save(ref / "hidden_states.npy", torch.stack(out.hidden_states)[:, 0].numpy().astype(np.float32))
    for layer, a in enumerate(out.attentions):
        np.save(ref / f"attn_pattern.{layer}.npy", a[0].numpy().astype(np.float32))

    # A padded batch: the real rows must equal each sentence run alone.
    sentences = ["Attention looks both ways.", "The quick brown fox jumps over the lazy dog, twice!"]
    batch = fast(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch, output_hidden_states=True).hidden_states[-1]
    mask = batch["attention_mask"]
    rows = [hidden[i, : int(mask[i].sum())].tolist() for i in range(len(sentences))]
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    ids = [batch["input_ids"][i, : int(mask[i].sum())].tolist() for i in range(len(sentences))]
    (ref / "batch.json").write_text(json.dumps({"sentences": sentences, "ids": ids, "last_hidden": rows}) + "\n")
    (ref / "mean_pooled.json").write_text(json.dumps({"sentences": sentences, "embeddings": pooled.tolist()}) + "\n")


def main() -> None:
    torch.set_num_threads(1)
    # 1. bert-tiny-mlm with an uncased tokenizer.json
    uncased = train_wordpiece(lowercase=True, strip_accents=None, vocab_size=420, max_chars=100)
    mlm = fresh(FIXTURES / "bert-tiny-mlm")
    fast = BertTokenizerFast(tokenizer_object=uncased, do_lower_case=True, **dict(zip(
        ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"], SPECIALS)))
    fast.save_pretrained(mlm)
    config = BertConfig(
        vocab_size=uncased.get_vocab_size(), hidden_size=48, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=96, max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu",
        layer_norm_eps=1e-12, pad_token_id=0)
    model = BertForMaskedLM(config).eval()
    randomise(model, 1)
    model.tie_weights()
    model.save_pretrained(mlm)
    write_reference(mlm, BertForMaskedLM, fast)
    save_cases(mlm, fast, 11)

    # 2. bert-tiny-base: BertModel, keys without "bert.", vocab.txt only
    base = fresh(FIXTURES / "bert-tiny-base")
    encoder = BertModel(config).eval()
    randomise(encoder, 2)
    encoder.save_pretrained(base)
    vocab = sorted(uncased.get_vocab().items(), key=lambda item: item[1])
    (base / "vocab.txt").write_text("".join(piece + "\n" for piece, _ in vocab))
    (base / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": 64}, indent=1) + "\n")
    write_reference(base, BertModel, fast)

    # 3. wordpiece-cased: tokenizer only
    cased = train_wordpiece(lowercase=False, strip_accents=False, vocab_size=500, max_chars=20)
    folder = fresh(FIXTURES / "wordpiece-cased")
    cased_fast = BertTokenizerFast(tokenizer_object=cased, do_lower_case=False, **dict(zip(
        ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"], SPECIALS)))
    cased_fast.save_pretrained(folder)
    save_cases(folder, cased_fast, 12)
    print("wrote", mlm, base, folder)


if __name__ == "__main__":
    main()
