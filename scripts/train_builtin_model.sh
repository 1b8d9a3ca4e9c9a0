#!/usr/bin/env bash
# Rebuilds Lantern's built-in teaching model, lantern-tiny, as it was made
# (Sources/ModelHub/lantern-tiny/TRAINING.md): the teaching corpus from seed 1, a BPE tokenizer
# trained on it, then a 6-layer GPT-2 trained for one 10,000-step plan on 2 threads. Batches
# depend on the seed and the step only, so with the binary of the commit TRAINING.md names the
# same CPU and thread count give the same weights. About 60 minutes on the 2-core development
# machine (3,222 s of it training). Ctrl-C saves a checkpoint; run the script again to resume it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lantern
L=.build/release/lantern
OUT=${1:-output/lantern-tiny}
[ -f output/corpus/train.txt ] || $L corpus --seed 1 --size-mb 20 --out output/corpus/train.txt
if [ -f "$OUT/training.json" ]; then
    $L train --data output/corpus/train.txt --out "$OUT" --resume --threads 2
else
    $L train --data output/corpus/train.txt --out "$OUT" --layers 6 --heads 6 --width 192 --context 256 \
        --batch 8 --vocab-size 2048 --steps 10000 --lr 0.0015 --warmup 200 --eval-every 200 \
        --checkpoint-every 250 --seed 1337 --threads 2 | tee "$OUT.log"
fi
# What ships: the model and tokenizer, the log, the loss curve and the attention snapshots.
DEST=Sources/ModelHub/lantern-tiny
rm -f "$DEST"/snapshots/*.png
mkdir -p "$DEST/snapshots"
cp "$OUT"/{config.json,model.safetensors,vocab.json,merges.txt,training.json,loss.png} "$DEST/"
cp "$OUT"/snapshots/*.png "$DEST/snapshots/"
if [ -f "$OUT.log" ]; then cp "$OUT.log" "$DEST/train.log"; fi
echo "copied into $DEST; now run: $L evaluate --model $DEST"
