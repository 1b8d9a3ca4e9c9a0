#!/usr/bin/env bash
# Rebuilds Lantern's built-in teaching model, lantern-tiny, exactly as it was made
# (Sources/ModelHub/BuiltInModel/TRAINING.md): the teaching corpus from seed 1, a BPE tokenizer
# trained on it, then a 6-layer GPT-2 trained on 2 threads. The run was made in two sessions —
# 6,000 planned steps stopped at step 2,713, then resumed with the plan stretched to 9,000 steps
# (the cosine schedule stretches with it) — and this script repeats that split with
# --stop-after. Batches depend on the seed and the step only, so the result is the same on the
# same CPU, thread count and kernels with the binary of the commit TRAINING.md names. Since the
# batch sampler was fixed (session 4; see TRAINING.md) today's binary draws different batches,
# so this gives a different model from the one that ships. About an hour on the 2-core
# development machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
L=.build/release/lantern
OUT=${1:-output/lantern-tiny}
$L corpus --seed 1 --size-mb 20 --out output/corpus/train.txt
$L train --data output/corpus/train.txt --out "$OUT" --layers 6 --heads 6 --width 192 --context 256 \
    --batch 8 --vocab-size 2048 --steps 6000 --lr 0.0015 --warmup 200 --eval-every 200 \
    --checkpoint-every 500 --seed 1337 --threads 2 --stop-after 2713
$L train --data output/corpus/train.txt --out "$OUT" --resume --steps 9000 --threads 2
# What ships: the model and tokenizer, the log, the loss curve and the attention snapshots.
DEST=Sources/ModelHub/BuiltInModel
mkdir -p "$DEST/snapshots"
cp "$OUT"/{config.json,model.safetensors,vocab.json,merges.txt,training.json,loss.png} "$DEST/"
cp "$OUT"/snapshots/*.png "$DEST/snapshots/"
echo "copied into $DEST; now run: $L evaluate --model $DEST"
