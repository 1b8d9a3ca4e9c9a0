#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [--filter PATTERN]
#
# A separate build folder (.build/sanitize), so the normal build is not disturbed. Takes
# roughly three times a normal debug build and test run. Any sanitizer report fails the
# run (ASan aborts on the first error; UBSan is made fatal the same way). Leak checking is
# off: the Swift runtime keeps some metadata for the life of the process by design.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
flags=(--scratch-path .build/sanitize --sanitize address --sanitize undefined)
swift build --build-tests "${flags[@]}" 2> >(grep -v "Cannot export local symbol" >&2)
swift test --skip-build "${flags[@]}" --disable-swift-testing "$@"
