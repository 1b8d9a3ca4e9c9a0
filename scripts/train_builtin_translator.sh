#!/usr/bin/env bash
# Builds Lantern's built-in translator, lantern-tiny-translate, as it was made
# (Sources/ModelHub/lantern-tiny-translate/TRAINING.md): 30,000 pairs of the teaching corpus's toy
# "French" → English translation from seed 3 (never a held-out noun–colour pair; 200 held-out pairs
# that each use one are written beside them), a WordPiece vocabulary built from both sides, then a
# BART (2 encoder and 2 decoder layers, width 128) trained on the pairs (lantern train --objective
# seq2seq) on 2 threads. Batches depend on the seed and the step only. Ctrl-C saves a checkpoint,
# and running the script again goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-output/lantern-tiny-translate}
# The run keeps its own copy of the binary, so rebuilding the checkout while it trains cannot
# change the trainer half-way.
L=output/lantern-translator-trainer
if [ ! -f "$OUT/training.json" ] || [ ! -x "$L" ]; then
    swift build -c release --product lantern
    mkdir -p output
    cp .build/release/lantern "$L"
fi
DATA=output/translation-pairs/train.tsv
[ -f "$DATA" ] || $L corpus --pairs translation --seed 3 --pair-count 30000 --out "$DATA" --eval output/translation-pairs
train() { $L train --objective seq2seq --data "$DATA" --out "$OUT" --threads 2 "$@" 2>&1 | tee -ia "$OUT.log"; }
if [ ! -f "$OUT/training.json" ]; then
    train --layers 2 --heads 4 --width 128 --context 64 --batch 32 --vocab-size 512 --steps "${STEPS:-3000}" \
        --lr 0.001 --warmup 200 --eval-every 250 --checkpoint-every 250 --seed 1337 --probe "la balle rouge est sous la table"
else
    train --resume
fi
# What ships: the model, its tokenizer, the log, the loss curve and the attention snapshots.
DEST=Sources/ModelHub/lantern-tiny-translate
mkdir -p "$DEST/snapshots"
cp "$OUT/config.json" "$OUT/model.safetensors" "$OUT/tokenizer.json" "$OUT/vocab.txt" "$OUT/tokenizer_config.json" \
    "$OUT/training.json" "$OUT/loss.png" "$DEST/"
cp "$OUT"/snapshots/*.png "$DEST/snapshots/"
cp "$OUT.log" "$DEST/train.log"
echo "shipped into $DEST"
