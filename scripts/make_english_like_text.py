#!/usr/bin/env python3
"""Writes English-like ASCII text for tokenizer training tests and timings.

Sentences are drawn from a few templates over small word lists with a
Zipf-like bias, a seeded generator, contractions ('s 't 're 've 'm 'll 'd),
numbers, punctuation, paragraphs, the odd double space or tab, and
<|endoftext|> between documents. Only printable ASCII, "\\n" and "\\t", so
GPT-2's regex gives the same words with Python's `re` as with the `regex`
module. Standard library only.

    python3 scripts/make_english_like_text.py BYTES SEED OUT

Tests/TrainingTests/Fixtures/bpe/corpus.txt is `20000 1`. Its word list is
small (a few hundred words), so for timings real text with more distinct
words is the harder case (see the note in Sources/Training/BPETrainer.swift).
"""
import random
import sys

NOUNS = """time year people way day man thing woman life child world school state family
student group country problem hand part place case week company system program question
work government number night point home water room mother area money story fact month lot
right study book eye job word business issue side kind head house service friend father
power hour game line end member law car city community name president team minute idea
kid body information back parent face others level office door health person art war
history party result change morning reason research girl guy moment air teacher force
education river garden lantern model token window letter apple machine engine picture""".split()
VERBS = """is was has had does said made went took saw came knew got gave found thought told
became left felt brought began kept held wrote stood heard let meant set met ran paid sat
spoke lay led read grew lost fell sent built understood drew broke spent cut rose drove
bought wore chose opened walked talked turned started showed played moved lived believed
happened carried learned changed followed stopped created considered appeared""".split()
ADJECTIVES = """good new first last long great little own other old right big high different small
large next early young important few public bad same able bright dark quiet strange
careful simple happy tired curious gentle warm cold green red blue heavy""".split()
NAMES = "Alice Bob Carol Dave Eve Frank Grace Heidi Ivan Judy Mallory Oscar Peggy Trent Victor Walter".split()
SUBJECTS = ["I", "you", "we", "they", "he", "she", "it"]
CONTRACTIONS = ["don't", "can't", "it's", "we'll", "I'm", "they've", "she'd", "you're",
                "isn't", "he'll", "we're", "I've", "that's", "wouldn't"]
ADVERBS = "quickly slowly never always often again together away still already".split()
PREPOSITIONS = "in on at with from into over under after before near behind".split()
DETERMINERS = ["the", "a", "this", "that", "every", "some", "my", "our", "their"]


def zipf(rng, words):
    """Early words much more often than late ones."""
    index = int(len(words) * rng.random() ** 2.5)
    return words[min(index, len(words) - 1)]


def noun_phrase(rng):
    parts = [rng.choice(DETERMINERS)]
    if rng.random() < 0.4:
        parts.append(zipf(rng, ADJECTIVES))
    noun = zipf(rng, NOUNS)
    if rng.random() < 0.15:
        noun += "s"
    parts.append(noun)
    return " ".join(parts)


def sentence(rng):
    kind = rng.random()
    if kind < 0.35:
        words = [noun_phrase(rng).capitalize(), zipf(rng, VERBS), noun_phrase(rng)]
    elif kind < 0.55:
        words = [rng.choice(NAMES) + "'s", zipf(rng, NOUNS), zipf(rng, VERBS),
                 rng.choice(PREPOSITIONS), noun_phrase(rng)]
    elif kind < 0.75:
        subject = rng.choice(SUBJECTS)
        words = [subject.capitalize() if subject != "I" else subject, rng.choice(CONTRACTIONS).lower(),
                 zipf(rng, VERBS), rng.choice(ADVERBS)]
        if words[1].startswith("i'"):
            words[1] = "I" + words[1][1:]
    elif kind < 0.9:
        words = ["In", str(rng.randint(1800, 2024)) + ",", rng.choice(NAMES), zipf(rng, VERBS),
                 str(rng.randint(2, 999)), zipf(rng, NOUNS) + "s"]
    else:
        words = ['"' + rng.choice(CONTRACTIONS).capitalize(), zipf(rng, ADJECTIVES) + ',"',
                 rng.choice(NAMES), "said", "(" + rng.choice(ADVERBS) + ")"]
    end = rng.choices([".", "!", "?", "...", ";"], weights=[80, 6, 8, 3, 3])[0]
    return " ".join(words) + end


def text(size, seed):
    rng = random.Random(seed)
    out = []
    length = 0
    while length < size:
        paragraph = []
        for _ in range(rng.randint(2, 7)):
            paragraph.append(sentence(rng))
        separator = rng.choices([" ", "  ", "\t"], weights=[95, 4, 1])[0]
        piece = separator.join(paragraph)
        roll = rng.random()
        piece += "<|endoftext|>" if roll < 0.08 else ("\n\n" if roll < 0.7 else "\n")
        out.append(piece)
        length += len(piece)
    return "".join(out)[:size]


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    size, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path, "w", encoding="ascii", newline="") as file:
        file.write(text(size, seed))
