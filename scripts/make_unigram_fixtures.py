#!/usr/bin/env python3
"""Build the tokenizer fixture for Lantern's SentencePiece Unigram tokenizer (T5's).

What it builds
--------------
``Tests/TransformerTests/Fixtures/t5-unigram/``: a T5-style ``tokenizer.json`` made the way
T5's own was: a SentencePiece Unigram model trained here (``sentencepiece``, 220 pieces,
``nmt_nfkc`` normalisation, pad 0, ``</s>`` 1, ``<unk>`` 2) on the inline text of
``make_bert_fixtures.py``, converted by ``tokenizers``' ``SentencePieceUnigramTokenizer.from_spm``
(a ``Precompiled`` normalizer holding the model's ``precompiled_charsmap``, then ``Replace``
of two or more spaces; a ``Metaspace`` pre-tokenizer and decoder, prepend scheme "always"),
with T5's special tokens added (``<pad>``, ``</s>``, ``<unk>``, ``<extra_id_0>`` …
``<extra_id_9>``) and its post-processor (``$A </s>``), saved by ``T5TokenizerFast``.

``tokenizer_cases.json``: a few hundred strings (accents, ligatures, full-width and circled
characters, combining marks, emoji, CJK, several spaces, sentinel tokens in the text) with the
ids and tokens T5TokenizerFast gives (``add_special_tokens=True``) and its decoding of the ids
(``skip_special_tokens=True``).

How to run
----------
From the repository root::

    python scripts/make_unigram_fixtures.py

Needs sentencepiece, protobuf, tokenizers, transformers, numpy. Deterministic.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import sentencepiece as spm
import sentencepiece.sentencepiece_model_pb2 as model_pb2
import tokenizers
import transformers
from tokenizers import AddedToken, processors

sys.modules["sentencepiece_model_pb2"] = model_pb2  # where tokenizers looks for it
from tokenizers import SentencePieceUnigramTokenizer  # noqa: E402
from transformers import T5TokenizerFast  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FOLDER = REPO / "Tests/TransformerTests/Fixtures/t5-unigram"
SENTINELS = [f"<extra_id_{i}>" for i in range(10)]

CASES = [
    "", " ", "Hello, world!", "hello world", "  leading and trailing spaces  ", "multiple     spaces",
    "tabs\tand\nnewlines\r\nhere", "café crème brûlée", "CAFÉ", "naïve façade", "Ångström Øyvind Élodie",
    "e\u0301 combining acute", "n\u0303 tilde", "\u00c5 vs A\u030a", "ﬁ ﬂ ligatures", "ß straße",
    "①②③ circled", "ＡＢＣ full-width ＡＢＣ", "１２３", "½ ¼", "™ ©", "x²", "Ⅻ", "ｶﾀｶﾅ half-width",
    "我爱北京天安门", "今天天气很好。", "東京タワー", "한국어", "emoji 😀 here", "👍🏽 thumbs", "family 👨‍👩‍👧",
    "zero\u200bwidth", "soft\u00adhyphen", "nbsp\u00a0space", "ideographic\u3000space", "control\u0007bell",
    "translate English to German: The house is wonderful.", "summarize: Mia found a red ball.",
    "The <extra_id_0> walks in <extra_id_1> park.", "<extra_id_9>", "</s>", "<pad> <unk>", "a</s>b",
    "Numbers: 3.14159, 2,718, 42%, $19.99", "state-of-the-art", "don't can't", "...", "!!!???",
    "a" * 40, "supercalifragilisticexpialidocious", "¿Qué? ¡Sí!", "«guillemets»", "‘curly’ “double”",
]


def training_text() -> str:
    text = (REPO / "scripts/make_bert_fixtures.py").read_text()
    start = text.index('TRAINING_TEXT = """') + len('TRAINING_TEXT = """')
    end = text.index('""" * 3')
    lines = [line for line in text[start:end].splitlines() if line.strip()]
    return "\n".join(lines * 20)


def generated_cases(rng: np.random.Generator, count: int) -> list[str]:
    words = training_text().split()[:400]
    out = []
    for _ in range(count):
        picked = [words[int(rng.integers(0, len(words)))] for _ in range(int(rng.integers(1, 12)))]
        if rng.random() < 0.2:
            picked.insert(int(rng.integers(0, len(picked) + 1)), SENTINELS[int(rng.integers(0, 10))])
        sep = " " if rng.random() < 0.8 else "  "
        out.append(sep.join(picked))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "train.txt"
        corpus.write_text(training_text())
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(scratch) / "t5u"), vocab_size=220, model_type="unigram",
            pad_id=0, eos_id=1, unk_id=2, bos_id=-1, normalization_rule_name="nmt_nfkc", character_coverage=1.0,
            minloglevel=2, num_threads=1, seed_sentencepiece_size=1000000)
        backend = SentencePieceUnigramTokenizer.from_spm(str(Path(scratch) / "t5u.model"))
    tok = backend._tokenizer
    tok.add_special_tokens([AddedToken(t, special=True) for t in ["<pad>", "</s>", "<unk>"] + SENTINELS])
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)])
    fast = T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                           extra_ids=0, additional_special_tokens=SENTINELS)
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    FOLDER.mkdir(parents=True)
    fast.save_pretrained(FOLDER)

    rng = np.random.default_rng(21)
    cases = []
    for text in CASES + generated_cases(rng, 250):
        ids = fast(text)["input_ids"]
        cases.append({"text": text, "ids": ids, "tokens": fast.convert_ids_to_tokens(ids),
                      "decoded": fast.decode(ids, skip_special_tokens=True)})
    (FOLDER / "tokenizer_cases.json").write_text(json.dumps({
        "library": f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}, "
                   f"sentencepiece {spm.__version__}",
        "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print("wrote", FOLDER, len(cases), "cases")


if __name__ == "__main__":
    main()
