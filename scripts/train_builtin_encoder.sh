#!/usr/bin/env bash
# Builds Lantern's built-in teaching encoder, lantern-tiny-encoder, as it was made
# (Sources/ModelHub/lantern-tiny-encoder/TRAINING.md): a story-world corpus from seed 2 (stories
# and story questions only: the words `lantern fill` is tried on), a WordPiece vocabulary built
# from it, then a 4-layer BERT trained to recover masked words (lantern train --objective mlm) on
# 2 threads. Batches and masks depend on the seed and the step only. About 40 minutes on the
# 2-core development machine; Ctrl-C saves a checkpoint, and running the script again goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-output/lantern-tiny-encoder}
# The run keeps its own copy of the binary, so rebuilding the checkout while it trains cannot
# change the trainer half-way.
L=output/lantern-encoder-trainer
if [ ! -f "$OUT/training.json" ] || [ ! -x "$L" ]; then
    swift build -c release --product lantern
    mkdir -p output
    cp .build/release/lantern "$L"
fi
DATA=output/encoder-corpus/train.txt
[ -f "$DATA" ] || $L corpus --seed 2 --size-mb 12 --mix story=1,qa=0.3,sentiment=0,tweet=0,translation=0,repeat=0 \
    --out "$DATA" --eval output/encoder-corpus/eval
train() { $L train --objective mlm --data "$DATA" --out "$OUT" --threads 2 "$@" 2>&1 | tee -ia "$OUT.log"; }
if [ ! -f "$OUT/training.json" ]; then
    train --layers 4 --heads 4 --width 128 --context 64 --batch 32 --vocab-size 1024 --steps "${STEPS:-12000}" \
        --lr 0.001 --warmup 400 --eval-every 500 --checkpoint-every 500 --seed 1337 \
        --probe "Mia found a red ball in the garden. She gave the [MASK] to Tom."
else
    train --resume
fi
# What ships: the model, its tokenizer, the log, the loss curve and the attention snapshots.
DEST=Sources/ModelHub/lantern-tiny-encoder
mkdir -p "$DEST/snapshots"
cp "$OUT/config.json" "$OUT/model.safetensors" "$OUT/tokenizer.json" "$OUT/vocab.txt" "$OUT/tokenizer_config.json" \
    "$OUT/training.json" "$OUT/loss.png" "$DEST/"
cp "$OUT"/snapshots/*.png "$DEST/snapshots/"
cp "$OUT.log" "$DEST/train.log"
echo "shipped into $DEST"
