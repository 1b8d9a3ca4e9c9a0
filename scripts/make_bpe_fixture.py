#!/usr/bin/env python3
"""Expected merges for Lantern's byte-level BPE trainer (Sources/Training/BPETrainer.swift).

A plain, non-incremental implementation of the same algorithm, written from
its description and not from the Swift code:

1. cut "<|endoftext|>" out of the text;
2. split each stretch with GPT-2's regex into words and count them;
3. spell each word as its bytes; the vocabulary starts with the 256 bytes;
4. every step, recount all adjacent pairs over all words (weighted by word
   count), skip pairs whose joined bytes already are a piece, and merge the
   most frequent pair, ties to the smaller (left bytes, right bytes); each
   word is rewritten left to right;
5. stop at VOCAB_SIZE tokens (256 + merges + 1 special) or when no pair
   occurs MIN_FREQUENCY times.

The corpus must be ASCII (without U+001C..U+001F), where Python's `re`
splits exactly as GPT-2's `regex`-module pattern does. Standard library only.

    python3 scripts/make_bpe_fixture.py [FOLDER]

reads FOLDER/corpus.txt (default Tests/TrainingTests/Fixtures/bpe) and writes
FOLDER/merges.txt. The corpus itself comes from
`python3 scripts/make_english_like_text.py 20000 1 FOLDER/corpus.txt`.
"""
import collections
import os
import re
import sys

VOCAB_SIZE = 1024
MIN_FREQUENCY = 2
SPECIAL = "<|endoftext|>"

# GPT-2's pattern with \p{L} and \p{N} spelled for ASCII.
PATTERN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's byte -> character table, bytes listed in vocabulary order."""
    order = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    characters = order[:]
    extra = 0
    for byte in range(256):
        if byte not in order:
            order.append(byte)
            characters.append(256 + extra)
            extra += 1
    return order, {byte: chr(character) for byte, character in zip(order, characters)}


def spell(piece, table):
    return "".join(table[byte] for byte in piece)


def train(text):
    assert all(ord(c) < 128 and not 0x1C <= ord(c) <= 0x1F for c in text), "corpus must be plain ASCII"
    words = collections.Counter()
    for chunk in text.split(SPECIAL):
        for word in PATTERN.findall(chunk):
            words[word.encode("ascii")] += 1
    assert sum(len(w) * c for w, c in words.items()) == len(text.encode()) - text.count(SPECIAL) * len(SPECIAL)

    order, _ = bytes_to_unicode()
    known = {bytes([b]) for b in order}
    splits = {word: [bytes([b]) for b in word] for word in words}
    merges = []
    skipped = 0
    while 256 + len(merges) + 1 < VOCAB_SIZE:
        pairs = collections.Counter()
        for word, count in words.items():
            pieces = splits[word]
            for left, right in zip(pieces, pieces[1:]):
                pairs[(left, right)] += count
        candidates = [(pair, count) for pair, count in pairs.items() if count >= MIN_FREQUENCY]
        fresh = [(pair, count) for pair, count in candidates if pair[0] + pair[1] not in known]
        skipped_now = len(candidates) - len(fresh)
        if not fresh:
            break
        (left, right), _ = min(fresh, key=lambda item: (-item[1], item[0][0], item[0][1]))
        skipped = max(skipped, skipped_now)
        merges.append((left, right))
        known.add(left + right)
        for word, pieces in splits.items():
            out, index = [], 0
            while index < len(pieces):
                if index + 1 < len(pieces) and pieces[index] == left and pieces[index + 1] == right:
                    out.append(left + right)
                    index += 2
                else:
                    out.append(pieces[index])
                    index += 1
            splits[word] = out
    return merges, skipped


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures", "bpe")
    with open(os.path.join(folder, "corpus.txt"), encoding="ascii", newline="") as file:
        text = file.read()
    merges, skipped = train(text)
    _, table = bytes_to_unicode()
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8", newline="\n") as file:
        file.write("#version: 0.2\n")
        for left, right in merges:
            file.write(spell(left, table) + " " + spell(right, table) + "\n")
    print(f"{len(merges)} merges (vocabulary {256 + len(merges) + 1}); "
          f"at most {skipped} candidate pairs skipped in one step because their piece existed")


if __name__ == "__main__":
    main()
