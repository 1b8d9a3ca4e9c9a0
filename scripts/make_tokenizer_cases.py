"""Reference cases for Lantern's SentencePiece-style BPE tokenizer.

Writes ``Tests/TransformerTests/Fixtures/llama-tiny-gqa/reference/sentencepiece_cases.json``:
for several ``tokenizer.json`` variants, texts with the ids Hugging Face's
``tokenizers`` gives them (``Tokenizer.encode(text).ids``, i.e. with the
post-processor's special tokens, as ``LlamaTokenizerFast(text)["input_ids"]``)
and ``decode(ids, skip_special_tokens=True)``. Read by
``Tests/TokenizersTests/SentencePieceReferenceTests.swift``.

Variants:

* ``fixture`` -- the fixture's own ``tokenizer.json`` (Metaspace with
  prepend_scheme "first", split false; byte fallback; template ``<s> $A``).
* ``fixture-metaspace-always`` -- the same vocabulary with an older
  ``Metaspace`` entry (``add_prefix_space: true``, no ``prepend_scheme`` or
  ``split`` keys: prepend always, split at every "▁").
* ``fixture-legacy-normalizer`` -- the same vocabulary the way older Llama
  files spell it: normalizer ``Prepend("▁")`` + ``Replace(" " -> "▁")``, no
  pre-tokenizer, decoder ``Replace``/``ByteFallback``/``Fuse``/``Strip``.
* ``hand-first`` -- a small hand-written vocabulary whose merges make rank
  order, ties, joins across "▁", ``<unk>`` with ``fuse_unk`` (bytes F0..FF have
  no tokens, so 4-byte characters are unknown), a non-special added token, an
  ``rstrip`` one, canonically equivalent pieces ("à" U+00E0 vs "a" U+0300)
  and a ``<s> $A </s>`` template matter.
* ``hand-legacy-unk`` -- the same pieces with no byte fallback,
  ``fuse_unk: false``, ``ignore_merges: true`` and the legacy normalizer,
  which also spells the normalized added tokens ("<extra>" is matched as
  "▁<extra>", "c d" as "▁c▁d"); "<mask>" has ``lstrip``.
* ``hand-replace-only`` -- Gemma-like: normalizer ``Replace(" " -> "▁")``
  only (no "▁" in front), ``<bos>``/``<eos>`` names, template ``<bos> $A``.

Every variant but ``fixture`` carries its whole ``tokenizer.json`` as a string
(``tokenizer_json``) so that its keys reach the Swift test byte for byte. All
use Llama's decoder (``Replace``, ``ByteFallback``, ``Fuse``, ``Strip``;
``hand-replace-only`` without ``Strip``, as Gemma): a lone ``Metaspace``
decoder has no byte fallback and drops every "▁" of the first token, which
Lantern does not copy.

Deterministic: fixed texts plus strings drawn with ``random.Random(SEED)`` from
fixed fragment lists; nothing is trained or downloaded. Run from the
repository root::

    /work/venv/bin/python scripts/make_tokenizer_cases.py

Needs only ``tokenizers`` (made with 0.23.3). The Swift package does not need
Python to build or test: the output file is checked in.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "Tests" / "TransformerTests" / "Fixtures" / "llama-tiny-gqa"
OUTPUT = FIXTURE / "reference" / "sentencepiece_cases.json"
SEED = 20240611
RANDOM_CASES = 200

# --------------------------------------------------------------------------- texts

FIXED_TEXTS = [
    "Once upon a time there was a little robot",
    "Hello world",
    " leading space",
    "  two leading spaces",
    "two  spaces and a trailing space ",
    "tab\tand\nnew line\n\n",
    "The teacher taught the students with the book.",
    "Café, naïve — 日本 😀",
    "1234 + 5678 = 6912",
    "It's the robot's book, isn't it?",
    "",
    " ",
    "   ",
    "\n",
    "the",
    "▁the literal ▁ character",
    "special <s> and </s> in text",
    "<s>",
    "<s>the",
    "the</s>",
    "<unk> written",
    "e\u0301 vs \u00e9",
    "中文日本語한국어",
    "👍🏽 🇫🇷 👨‍👩‍👧",
    "\u0000\u0001\u007f",
    "line\r\nbreak",
]

FIXTURE_FRAGMENTS = [
    "the", "The", "and", "book", "robot", "teacher", "look", "a", "st", "ing", "do", "to",
    " ", " ", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n",
    ".", ",", "!", "?", "'", "-", "1", "42",
    "é", "e\u0301", "ï", "—", "ß", "Ω", "я", "日本", "中文", "😀", "👍🏽", "🇫🇷", "𝄞", "\u00a0", "\u3000",
    "\u2581", "<s>", "</s>", "<unk>", "<", "s>", "\u0000",
]

HAND_FRAGMENTS = [
    "a", "b", "c", "d", "ab", "bc", "abc", "aaa", "cc", " ", " ", "  ", "   ",
    "\u00e0", "a\u0300", "\u0300", "é", "😀", "𝄞", "\u2581", "<s>", "</s>", "<extra>", "x", "\n",
    "c d", "<mask>", " <mask> ", "\t",
]


def random_texts(fragments: list[str], count: int, seed: int, max_length: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(fragments) for _ in range(rng.randint(0, max_length))) for _ in range(count)]


# --------------------------------------------------------------------------- variants

LEGACY_NORMALIZER = {"type": "Sequence", "normalizers": [
    {"type": "Prepend", "prepend": "▁"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
]}
LLAMA_DECODER = {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
    {"type": "ByteFallback"},
    {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0},
]}


def fixture_variants() -> list[tuple[str, str, dict | None]]:
    base = json.loads((FIXTURE / "tokenizer.json").read_text(encoding="utf-8"))

    always = copy.deepcopy(base)
    always["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}

    legacy = copy.deepcopy(base)
    legacy["normalizer"] = LEGACY_NORMALIZER
    legacy["pre_tokenizer"] = None
    legacy["decoder"] = LLAMA_DECODER
    return [
        ("fixture", "the fixture's tokenizer.json as it is", None),
        ("fixture-metaspace-always", "older Metaspace entry: add_prefix_space true (prepend always), split", always),
        ("fixture-legacy-normalizer", "normalizer Prepend + Replace, no pre-tokenizer (older Llama files)", legacy),
    ]


def added(token_id: int, content: str, special: bool = True, lstrip: bool = False, rstrip: bool = False) -> dict:
    return {"id": token_id, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": not special, "special": special}


def template(prefix: list[tuple[str, int]], suffix: list[tuple[str, int]]) -> dict:
    single = ([{"SpecialToken": {"id": name, "type_id": 0}} for name, _ in prefix]
              + [{"Sequence": {"id": "A", "type_id": 0}}]
              + [{"SpecialToken": {"id": name, "type_id": 0}} for name, _ in suffix])
    return {"type": "TemplateProcessing", "single": single, "pair": single + [{"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {name: {"id": name, "ids": [i], "tokens": [name]} for name, i in prefix + suffix}}


HAND_PIECES = ["▁", "a", "b", "c", "d", "\u00e0", "\u0300"]
# Rank order matters: "b c" before "a b" makes "abc" -> "a" "bc"; "a ▁" joins across
# spaces when nothing splits words; "aa a" and "a aa" both make "aaa"; "c c" is listed
# twice (the later rank counts); "a \u0300" builds a piece canonically equal to "à".
HAND_MERGES = [
    ["b", "c"], ["a", "b"], ["a", "▁"], ["▁", "a"], ["a", "a"], ["aa", "a"], ["a", "aa"],
    ["▁a", "bc"], ["bc", "d"], ["a", "\u0300"], ["c", "c"], ["▁", "▁"], ["▁▁", "▁"],
    ["d", "▁"], ["c", "c"], ["▁", "\u00e0"], ["ab", "c"],
]


def hand_vocab(specials: list[str]) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for name in specials:
        vocab[name] = len(vocab)
    for byte in range(0xF0):          # no tokens for F0..FF: 4-byte characters are unknown
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    for piece in HAND_PIECES:
        vocab[piece] = len(vocab)
    for left, right in HAND_MERGES:
        vocab.setdefault(left + right, len(vocab))
    return vocab


def hand_tokenizer(specials: list[str], *, byte_fallback: bool, fuse_unk: bool, ignore_merges: bool,
                   normalizer, pre_tokenizer, post_processor, decoder, extra_added: list[dict]) -> dict:
    vocab = hand_vocab(specials)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab[name], name) for name in specials] + extra_added,
        "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
        "decoder": decoder,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": fuse_unk, "byte_fallback": byte_fallback,
                  "ignore_merges": ignore_merges, "vocab": vocab, "merges": HAND_MERGES},
    }


def hand_variants() -> list[tuple[str, str, dict]]:
    llama_specials = ["<unk>", "<s>", "</s>"]
    size = len(hand_vocab(llama_specials))
    first = hand_tokenizer(
        llama_specials, byte_fallback=True, fuse_unk=True, ignore_merges=False, normalizer=None,
        pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
        post_processor=template([("<s>", 1)], [("</s>", 2)]),
        decoder=LLAMA_DECODER,
        extra_added=[added(size, "<extra>", special=False), added(size + 1, "<mask>", rstrip=True)])
    legacy = hand_tokenizer(
        llama_specials, byte_fallback=False, fuse_unk=False, ignore_merges=True, normalizer=LEGACY_NORMALIZER,
        pre_tokenizer=None, post_processor=template([("<s>", 1)], []), decoder=LLAMA_DECODER,
        extra_added=[added(size, "<extra>", special=False), added(size + 1, "c d", special=False),
                     added(size + 2, "<mask>", lstrip=True)])
    gemma_specials = ["<pad>", "<eos>", "<bos>", "<unk>"]
    replace_only = hand_tokenizer(
        gemma_specials, byte_fallback=True, fuse_unk=True, ignore_merges=False,
        normalizer={"type": "Replace", "pattern": {"String": " "}, "content": "▁"}, pre_tokenizer=None,
        post_processor=template([("<bos>", 2)], []),
        decoder={"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
        extra_added=[])
    return [
        ("hand-first", "hand-made merges; Metaspace first, no split; unk fused; template <s> $A </s>", first),
        ("hand-legacy-unk", "hand-made merges; legacy normalizer; no byte fallback; unk not fused; ignore_merges",
         legacy),
        ("hand-replace-only", "hand-made merges; Replace normalizer only (no prepended ▁); <bos> template",
         replace_only),
    ]


# --------------------------------------------------------------------------- output

def cases_for(tok: Tokenizer, texts: list[str]) -> list[dict]:
    out = []
    for text in texts:
        ids = tok.encode(text).ids
        out.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
    return out


def main() -> None:
    fixture_texts = FIXED_TEXTS + random_texts(FIXTURE_FRAGMENTS, RANDOM_CASES, SEED, 14)
    hand_texts = FIXED_TEXTS + random_texts(HAND_FRAGMENTS, RANDOM_CASES, SEED + 1, 10)
    variants = []
    for name, description, document in fixture_variants():
        text = (FIXTURE / "tokenizer.json").read_text(encoding="utf-8") if document is None \
            else json.dumps(document, ensure_ascii=False)
        tok = Tokenizer.from_str(text)
        variants.append({"name": name, "description": description,
                         "tokenizer_json": None if document is None else text,
                         "cases": cases_for(tok, fixture_texts)})
    for name, description, document in hand_variants():
        text = json.dumps(document, ensure_ascii=False)
        tok = Tokenizer.from_str(text)
        variants.append({"name": name, "description": description, "tokenizer_json": text,
                         "cases": cases_for(tok, hand_texts)})

    # One case per line keeps the file readable and its diffs small.
    lines = ["{",
             f' "generator": "scripts/make_tokenizer_cases.py (tokenizers {tokenizers.__version__}, seed {SEED})",',
             ' "note": ' + json.dumps("ids = tokenizers.Tokenizer.from_str(tokenizer_json or the fixture's "
                                      "tokenizer.json).encode(text).ids (post-processor tokens included); "
                                      "decoded = decode(ids, skip_special_tokens=True)") + ",",
             ' "variants": [']
    for v_index, variant in enumerate(variants):
        lines.append("  {")
        for key in ("name", "description", "tokenizer_json"):
            lines.append(f"   {json.dumps(key)}: {json.dumps(variant[key])},")
        lines.append('   "cases": [')
        cases = variant["cases"]
        for c_index, case in enumerate(cases):
            comma = "," if c_index + 1 < len(cases) else ""
            lines.append("    " + json.dumps(case) + comma)
        lines.append("   ]")
        lines.append("  }" + ("," if v_index + 1 < len(variants) else ""))
    lines += [" ]", "}", ""]
    OUTPUT.write_text("\n".join(lines), encoding="ascii")
    total = sum(len(v["cases"]) for v in variants)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(variants)} variants, {total} cases")


if __name__ == "__main__":
    main()
