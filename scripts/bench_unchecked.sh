#!/usr/bin/env bash
# Is -Ounchecked worth it? Builds Lantern's release twice — as shipped (every module at
# checked -O) and with the numeric modules Tensors, Transformer and Training at -Ounchecked
# (LANTERN_UNCHECKED_RELEASE=1, in .build/unchecked) — then runs the same benchmarks on both,
# alternating, so a drift of the machine's speed falls on both alike.
# Measured 2026-12-03 (AMD Zen 3, 2 threads, 4 rounds; medians unchecked vs checked): prefill
# 583 vs 592 tok/s, decode 44.6 vs 47.4 tok/s, training 3,716 vs 3,622 tok/s — noise, so the
# shipped build stays checked.
#
#   scripts/bench_unchecked.sh [ROUNDS]      (default 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
swift build -c release --product lantern >/dev/null
LANTERN_UNCHECKED_RELEASE=1 swift build -c release --product lantern --scratch-path .build/unchecked >/dev/null
checked=.build/release/lantern unchecked=.build/unchecked/release/lantern

measure() {  # BINARY → one line: prefill tok/s, decode tok/s, training tok/s
    local inference training
    inference=$("$1" bench --threads 2 --no-recording 2>&1)
    training=$("$1" bench --train --threads 2 2>&1)
    printf 'prefill %s  decode %s  training %s\n' \
        "$(grep -m1 -oE 'prefill[^0-9]*[0-9,.]+ tok/s' <<<"$inference" | grep -oE '[0-9,.]+ tok/s')" \
        "$(grep -m1 -oE 'decode[^0-9]*[0-9,.]+ tok/s' <<<"$inference" | grep -oE '[0-9,.]+ tok/s')" \
        "$(awk '/^threads +tokens\/s/ { getline; print $2 " tok/s"; exit }' <<<"$training")"
}
for round in $(seq "$rounds"); do
    echo "round $round  -Ounchecked: $(measure $unchecked)"
    echo "round $round  checked -O:  $(measure $checked)"
done
