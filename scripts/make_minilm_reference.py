#!/usr/bin/env python3
"""Golden values for all-MiniLM-L6-v2, from transformers and sentence-transformers.

The model itself is not committed (scripts/fetch_minilm.sh puts it in the test cache); what
the reference implementations compute on it is, under
``Tests/TransformerTests/Fixtures/minilm-reference/``:

- ``sentences.json``: the sentences, their token ids (HF's fast tokenizer), and the
  sentence embeddings ``SentenceTransformer(folder).encode(sentences)`` gives (the package's
  modules: BertModel → mean pooling over the real tokens → L2 normalisation).
- ``hidden_states.npy`` [7, T, 384] and ``attentions.npy`` [6, 12, T, T] for the first
  sentence: ``output_hidden_states`` / ``output_attentions`` of ``AutoModel`` (eager, float32).
- ``tokenizer_ids.json``: the real 30,522-piece vocabulary's ids for the tokenizer cases of
  scripts/make_bert_fixtures.py (CASES) and a few longer texts.

How to run (from the repository root; needs torch, transformers, sentence-transformers)::

    python scripts/make_minilm_reference.py "$(bash scripts/fetch_minilm.sh)"
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_bert_fixtures import CASES  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests/TransformerTests/Fixtures/minilm-reference"

SENTENCES = [
    "The cat sat on the mat.",
    "A kitten was resting on the rug.",
    "Stock markets fell sharply on Monday.",
    "Attention lets every word look at every other word, before and after it.",
    "Naïve café owners in Zürich serve crème brûlée.",
    "How do I bake bread at home?",
]


def main() -> None:
    folder = Path(sys.argv[1])
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").float().eval()
    encoder = SentenceTransformer(str(folder), device="cpu")
    embeddings = encoder.encode(SENTENCES, convert_to_numpy=True)
    ids = [tokenizer(s)["input_ids"] for s in SENTENCES]
    (OUT / "sentences.json").write_text(json.dumps({
        "library": f"transformers {transformers.__version__}, sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "sentences": SENTENCES, "ids": ids, "embeddings": embeddings.astype(float).tolist(),
    }) + "\n")
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids[0]]), output_hidden_states=True, output_attentions=True)
    np.save(OUT / "hidden_states.npy", torch.stack(out.hidden_states)[:, 0].numpy().astype(np.float32))
    np.save(OUT / "attentions.npy", torch.stack(out.attentions)[:, 0].numpy().astype(np.float32))
    texts = CASES + [TEXT for TEXT in SENTENCES] + [
        "Transformers read tokens; BERT fills in the [MASK] using the words on both sides.",
        "unaffable supercalifragilistic hyperparameterisation", "Ünïcödé ÀÉÎÕÜ ﬁ ǅ ß", "日本語のテキストと中文",
    ]
    (OUT / "tokenizer_ids.json").write_text(json.dumps(
        [{"text": t, "ids": tokenizer(t)["input_ids"]} for t in texts], ensure_ascii=False, indent=0) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
