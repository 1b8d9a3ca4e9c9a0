#!/usr/bin/env bash
# Fuzzes every parser of a user-supplied file with libFuzzer under AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET …]      (default: 60 s, every target)
#
# Targets are the cases of Sources/FuzzTargets/FuzzTarget.swift (npy, safetensors,
# config-json, tokenizer-json, tokenizer-bin, vocab-json, llama2c-bin, trace-json,
# branch-json, lesson-manifest, lesson-markdown, progress-json). Each starts from a seed
# corpus of real files from this checkout (fixtures, the built-in model, the lessons,
# ../shared/data when present) and keeps what it grows in .build/fuzz-corpus/TARGET.
# A crash, sanitizer report, hang (>10 s) or runaway allocation (>4 GB) is written to
# .build/fuzz-crashes/TARGET/; once fixed, copy it to
# Tests/FuzzRegressionTests/Inputs/TARGET/ so the normal test suite replays it.
# The summary line per target gives executions, corpus size and crashes found.
# Leak checking is off: Foundation's Data(contentsOf:) keeps a 4 KB buffer per read of an
# empty file (swift-foundation, not Lantern), which would stop every run at its first input.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
all="npy safetensors config-json tokenizer-json tokenizer-bin vocab-json llama2c-bin trace-json branch-json lesson-manifest lesson-markdown progress-json"
targets="${*:-$all}"

scratch=.build/fuzz
# lld: gold fails on libFuzzer's objects with an internal error.
echo "building lantern-fuzz with -sanitize=fuzzer,address (the first build takes several minutes)…"
swift build --product lantern-fuzz --scratch-path "$scratch" \
    -Xswiftc -DLANTERN_LIBFUZZER -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld \
    2> >(grep -v "Cannot export local symbol" >&2)
binary="$scratch/debug/lantern-fuzz"

# seed FILE… into the corpus of one target (copies; never moves a checkout file).
seed() {
    local target=$1; shift
    mkdir -p ".build/fuzz-corpus/$target"
    for file in "$@"; do
        [ -f "$file" ] && cp "$file" ".build/fuzz-corpus/$target/seed-$(echo "$file" | tr '/' '_')"
    done
    return 0
}
fixtures=Tests/TransformerTests/Fixtures
seed npy $(find Tests -name '*.npy' | head -20)
seed safetensors $(find "$fixtures" -name '*.safetensors' -size -2M | head -10)
seed config-json $(find "$fixtures" -name 'config.json' | head -20) Sources/ModelHub/lantern-tiny/config.json
seed tokenizer-json $(find "$fixtures" Tests -name 'tokenizer.json' -size -2M | head -10)
seed tokenizer-bin $(find ../shared/data "$fixtures" -name 'tok*.bin' 2>/dev/null | head -5)
seed vocab-json Sources/ModelHub/lantern-tiny/vocab.json $(find "$fixtures" -name 'vocab.json' -size -1M | head -5)
seed llama2c-bin $(find ../shared/data "$fixtures" -name 'stories*.bin' -size -3000k 2>/dev/null | head -3)
seed trace-json $(find Tests -name 'trace.json' | head -10)
seed branch-json $(find Tests -name 'branch.json' | head -10)
seed lesson-manifest lessons/manifest.json
seed lesson-markdown lessons/*.md
# Traces, branches and progress files are made by lantern itself, when a build of it is here.
made=.build/fuzz-seeds
mkdir -p "$made"
lantern=$(ls .build/release/lantern .build/debug/lantern 2>/dev/null | head -1 || true)
if [ -n "$lantern" ]; then
    "$lantern" generate "Once upon a time" --max-new-tokens 3 --trace "$made/trace" >/dev/null 2>&1 || true
    "$lantern" generate "Mia" --max-new-tokens 2 --greedy --trace "$made/trace-greedy" >/dev/null 2>&1 || true
    "$lantern" branch "Once upon a time" --at 1 --candidate 2 --max-new-tokens 3 --out "$made/branch.json" >/dev/null 2>&1 || true
fi
seed trace-json "$made/trace/trace.json" "$made/trace-greedy/trace.json"
seed branch-json "$made/branch.json"
cat > "$made/progress.json" <<'JSON'
{"about": "Lantern lesson progress", "format": 1, "lessons": {"prompts": {"started": "2026-12-01", "position": 7,
 "questions": {"count": {"attempts": 2, "wrong": 1, "correct": true, "skipped": false, "answers": ["3", "4"], "firstTry": false}}}}}
JSON
seed progress-json "$made/progress.json"
# The smallest llama2.c checkpoint: header (dim 2, hidden 2, 1 layer, 1 head, 1 kv head,
# vocabulary 4, context 2; int32 little-endian), then its 46 float32 weights, all zero.
{ printf '\x02\0\0\0\x02\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\0\0\x04\0\0\0\x02\0\0\0'; head -c 184 /dev/zero; } > "$made/tiny.bin"
seed llama2c-bin "$made/tiny.bin"

summary=()
for target in $targets; do
    corpus=".build/fuzz-corpus/$target" crashes=".build/fuzz-crashes/$target"
    mkdir -p "$corpus" "$crashes"
    before=$(ls "$crashes" | wc -l)
    log=".build/fuzz-$target.log"
    echo "fuzzing $target for ${seconds} s…"
    ASAN_OPTIONS=detect_leaks=0 LANTERN_FUZZ_TARGET=$target "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=4096 -malloc_limit_mb=4096 -max_len=65536 -artifact_prefix="$crashes/" \
        -print_final_stats=1 -detect_leaks=0 >"$log" 2>&1 || true
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    found=$(( $(ls "$crashes" | wc -l) - before ))
    summary+=("$target: ${runs} executions, corpus $(ls "$corpus" | wc -l) inputs, $found new crash(es)")
    [ "$found" -gt 0 ] && grep -m1 -E 'ERROR|Fatal error|deadly signal|timeout|out-of-memory' "$log" | sed "s/^/  $target: /"
done
echo
printf '%s\n' "${summary[@]}"
