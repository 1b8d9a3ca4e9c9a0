#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [--filter PATTERN]
#
# A separate build folder (.build/sanitize), so the normal build is not disturbed. Takes
# roughly three times a normal debug build and test run. AddressSanitizer instruments every
# module (Swift and C); UndefinedBehaviorSanitizer instruments the C kernels (Sources/CKernels):
# swiftc has no -sanitize=undefined, and Swift's own undefined behaviour (overflow, bounds)
# already traps in debug builds. Any report fails the run (both halt on the first error).
# Leak checking is off: Foundation's Data(contentsOf:) keeps a 4 KB buffer when it reads an
# empty file, and the Swift runtime keeps type metadata for the life of the process.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
flags=(--scratch-path .build/sanitize --sanitize address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
swift build --build-tests "${flags[@]}" 2> >(grep -v "Cannot export local symbol" >&2)
# ProcessMemoryTests measures glibc's malloc (freed record memory kept for reuse); under
# AddressSanitizer its own allocator replaces malloc, so that test has nothing to measure.
swift test --skip-build "${flags[@]}" --disable-swift-testing --skip ProcessMemoryTests "$@"
