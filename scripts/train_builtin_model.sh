#!/usr/bin/env bash
# Rebuilds Lantern's built-in teaching model, lantern-tiny, as it was made
# (Sources/ModelHub/lantern-tiny/TRAINING.md): the teaching corpus from seed 1, a BPE tokenizer
# trained on it, then a 6-layer GPT-2 trained on 2 threads in six phases:
#   1. one 9,000-step plan (warm-up, cosine decay to a tenth of the peak learning rate);
#   2. a warm restart: the plan stretched to 27,000 steps, which lifts the learning rate back to
#      0.78 × peak, stopped after step 10,000 (this is what sharpens the previous-token head);
#   3. the plan cut to 11,000 steps, so the last 1,000 steps run at about 0.11 × peak;
#   4–5. a second restart (plan 33,000, stopped after step 12,000), then the plan cut to 12,500;
#   6. fine-tuning from phase 5's weights for 1,500 steps on a seed-2 corpus that adds stories with
#      everyday words from outside the story world, with made-up words, soup and each unfamiliar
#      word's first mention as unscored spans (read, never trained to be written), so that an
#      unknown word in a prompt no longer turns the story into letter soup.
# Batches depend on the seed and the step only, so with the binaries of the commits TRAINING.md
# names the same CPU and thread count give the same weights. About 115 minutes on the 2-core
# development machine. Ctrl-C saves a checkpoint; run the script again to go on from it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-output/lantern-tiny}
# The run keeps its own copy of the binary, made when it starts, so rebuilding the checkout while
# it trains (for well over an hour) cannot change the trainer between phases.
L=output/lantern-trainer
if [ ! -f "$OUT/training.json" ] || [ ! -x "$L" ]; then
    swift build -c release --product lantern
    mkdir -p output
    cp .build/release/lantern "$L"
fi
DATA=output/corpus/train.txt
[ -f "$DATA" ] || $L corpus --seed 1 --size-mb 20 --out "$DATA"
# The run's step and plan, from training.json (keys are sorted, so the top-level "step" is the
# file's last one, after the log's).
number() { local file=${2:-$OUT}/training.json n; n=$(grep "$1" "$file" | tail -1 | tr -dc '0-9')
           [ -n "$n" ] || { echo "cannot read $1 from $file; remove ${2:-$OUT} to start over" >&2; exit 1; }
           echo "$n"; }
step() { number '"step" :' "$@"; }
plan() { number '"steps" :' "$@"; }
# tee -i ignores Ctrl-C, so lantern train (which catches it to finish the step and save) can
# still write its last lines; the pipeline then fails with lantern's 130 and the script stops.
train() { $L train --data "$DATA" --out "$OUT" --threads 2 "$@" 2>&1 | tee -ia "$OUT.log"; }

if [ ! -f "$OUT/training.json" ]; then
    train --layers 6 --heads 6 --width 192 --context 256 --batch 8 --vocab-size 2048 --steps 9000 \
        --lr 0.0015 --warmup 200 --eval-every 200 --checkpoint-every 250 --seed 1337
elif [ "$(plan)" = 9000 ] && [ "$(step)" -lt 9000 ]; then
    train --resume                               # phase 1, interrupted
fi
step > /dev/null   # (stops the script with a message if training.json cannot be read)
plan > /dev/null
if [ "$(plan)" = 9000 ] || { [ "$(plan)" = 27000 ] && [ "$(step)" -lt 10000 ]; }; then
    train --resume --steps 27000 --stop-after 10000   # phase 2
fi
if [ "$(plan)" = 27000 ] || [ "$(step)" -lt 11000 ]; then
    train --resume --steps 11000                  # phase 3
fi
# Phase 3 left the previous-token head at 0.49, just under `lantern heads`' 0.5: a second warm
# restart (the plan stretched to 33,000: 0.78 × peak again) for 1,000 steps, then 500 at a low rate.
if [ "$(plan)" = 11000 ] || { [ "$(plan)" = 33000 ] && [ "$(step)" -lt 12000 ]; }; then
    train --resume --steps 33000 --stop-after 12000   # phase 4
fi
if [ "$(plan)" = 33000 ] || [ "$(step)" -lt 12500 ]; then
    train --resume --steps 12500                  # phase 5
fi
# 6. Fine-tuning on the seed-2 corpus with unfamiliar-word stories and unscored spans, from phase
#    5's weights (a fresh optimiser; 1,500 steps at a fifth of phase 1's peak learning rate).
DATA6=output/corpus-phase6/train.txt
[ -f "$DATA6" ] || $L corpus --seed 2 --size-mb 10 --mix unfamiliar=0.15 --mark-unscored --out "$DATA6"
OUT6=$OUT-phase6
if [ ! -f "$OUT6/training.json" ]; then
    $L train --init-from "$OUT" --data "$DATA6" --out "$OUT6" --threads 2 --steps 1500 --lr 0.0003 \
        --warmup 100 --eval-every 100 --checkpoint-every 250 --seed 1337 2>&1 | tee -ia "$OUT6.log"
elif [ "$(step "$OUT6")" -lt 1500 ]; then
    $L train --data "$DATA6" --out "$OUT6" --threads 2 --resume 2>&1 | tee -ia "$OUT6.log"
fi

# What ships: phase 6's model, the tokenizer, the logs, loss curves and attention snapshots of
# phases 1–5 (where the heads formed), and phase 6's log and loss curve in phase6/.
DEST=Sources/ModelHub/lantern-tiny
rm -f "$DEST"/snapshots/*.png
mkdir -p "$DEST/snapshots" "$DEST/phase6"
cp "$OUT6"/{config.json,model.safetensors,vocab.json,merges.txt} "$DEST/"
cp "$OUT"/{training.json,loss.png} "$DEST/"
cp "$OUT"/snapshots/*.png "$DEST/snapshots/"
cp "$OUT6"/{training.json,loss.png} "$DEST/phase6/"
if [ -f "$OUT.log" ]; then cp "$OUT.log" "$DEST/train.log"; fi
if [ -f "$OUT6.log" ]; then cp "$OUT6.log" "$DEST/phase6/train.log"; fi
echo "copied into $DEST; now run: $L evaluate --model $DEST"
