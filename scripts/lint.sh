#!/usr/bin/env bash
# Static analysis: cppcheck over lib/ and src/, clang-tidy (.clang-tidy) over the files given
# or, by default, over lib/core, lib/json and lib/stix. Needs a configured build directory with
# compile_commands.json (build/release after ./quickstart.sh). Exit status 1 on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "==> cppcheck"
out=$(cppcheck --quiet -j2 --enable=warning,performance,portability --std=c11 --inline-suppr \
    -I include -I lib --include=/usr/include/jansson.h lib src 2>&1)
[ -n "$out" ] && { echo "$out"; status=1; }
echo "==> clang-tidy"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(lib/core/*.c lib/json/*.c lib/stix/*.c)
# the Release build's gcc link-time optimisation flags mean nothing to clang
out=$(clang-tidy -p build/release --quiet --extra-arg=-Wno-ignored-optimization-argument \
    "${files[@]}" 2>&1 | grep -E "warning:|error:")
[ -n "$out" ] && { echo "$out"; status=1; }
exit $status
