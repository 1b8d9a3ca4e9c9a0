#!/usr/bin/env python3
"""Build the tokenizer fixture for BART's tokenizer in Lantern: byte-level BPE (GPT-2's)
with RoBERTa's post-processor.

What it builds
--------------
``Tests/TransformerTests/Fixtures/bart-bpe/``: a BART-style ``tokenizer.json`` — a byte-level
BPE of 400 pieces trained here with ``tokenizers`` on the inline text of
``make_bert_fixtures.py`` (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, and ``<mask>``
added with ``lstrip``, as bart-base has it), the ``RobertaProcessing`` post-processor
(``<s> $A </s>``), saved by ``BartTokenizerFast``; and ``tokenizer_cases.json``: a few
hundred strings with the ids and tokens BartTokenizerFast gives (``add_special_tokens=True``)
and its decoding (special tokens skipped).

How to run
----------
From the repository root::

    python scripts/make_bart_tokenizer_fixture.py

Needs tokenizers, transformers, numpy. Deterministic.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import tokenizers
import transformers
from tokenizers import AddedToken, ByteLevelBPETokenizer, processors
from transformers import BartTokenizerFast

REPO = Path(__file__).resolve().parent.parent
FOLDER = REPO / "Tests/TransformerTests/Fixtures/bart-bpe"

CASES = [
    "", " ", "Hello world", "The <mask> sat.", "The<mask> sat.", "  two  spaces", "<s> inside </s>", "<mask>",
    "café crème brûlée", "emoji 😀 here", "我爱北京", "tabs\tand\nnewlines", "don't can't", "3.14159, 42%",
    "a" * 30, "UPPER lower", "trailing space ", "Mia found a red ball. Tom said thank you!",
]


def training_lines() -> list[str]:
    text = (REPO / "scripts/make_bert_fixtures.py").read_text()
    start = text.index('TRAINING_TEXT = """') + len('TRAINING_TEXT = """')
    end = text.index('""" * 3')
    return [line for line in text[start:end].splitlines() if line.strip()] * 20


def main() -> None:
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(training_lines(), vocab_size=400, min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok._tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    fast = BartTokenizerFast(tokenizer_object=tok._tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                             pad_token="<pad>", mask_token="<mask>")
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    FOLDER.mkdir(parents=True)
    fast.save_pretrained(FOLDER)
    rng = np.random.default_rng(5)
    words = " ".join(training_lines()[:40]).split()
    generated = []
    for _ in range(250):
        picked = [words[int(rng.integers(0, len(words)))] for _ in range(int(rng.integers(1, 12)))]
        if rng.random() < 0.2:
            picked.insert(int(rng.integers(0, len(picked) + 1)), "<mask>")
        generated.append((" " if rng.random() < 0.8 else "  ").join(picked))
    cases = []
    for text in CASES + generated:
        ids = fast(text)["input_ids"]
        cases.append({"text": text, "ids": ids, "tokens": fast.convert_ids_to_tokens(ids),
                      "decoded": fast.decode(ids, skip_special_tokens=True)})
    (FOLDER / "tokenizer_cases.json").write_text(json.dumps({
        "library": f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}",
        "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print("wrote", FOLDER, len(cases), "cases")


if __name__ == "__main__":
    main()
