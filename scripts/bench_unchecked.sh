#!/usr/bin/env bash
# Is -Ounchecked worth it? Builds Lantern's release twice — as shipped (the numeric modules
# Tensors, Transformer and Training with -Ounchecked) and with every module at checked -O
# (LANTERN_CHECKED_RELEASE=1, in .build/checked) — then runs the same benchmarks on both,
# alternating, so a drift of the machine's speed falls on both alike.
#
#   scripts/bench_unchecked.sh [ROUNDS]      (default 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
swift build -c release --product lantern >/dev/null
LANTERN_CHECKED_RELEASE=1 swift build -c release --product lantern --scratch-path .build/checked >/dev/null
unchecked=.build/release/lantern checked=.build/checked/release/lantern

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
