#!/usr/bin/env bash
# kizuna quick start. Two commands on a fresh Debian 12 machine:
#
#   ./quickstart.sh          install what is missing, build, run the demo on the shipped samples
#   ./quickstart.sh test     install what is missing, build (release + ASan/UBSan), run every test
#
# Package installation uses apt-get (as root, or through sudo) and only runs when a package
# from scripts/debian-packages.txt is missing.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
JOBS=$(nproc 2>/dev/null || echo 2)

install_packages() {
    local missing=()
    while read -r pkg; do
        pkg=${pkg%%#*}; pkg=${pkg// /}
        [ -z "$pkg" ] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done < scripts/debian-packages.txt
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build DIR CC BUILD_TYPE [cmake args...]
build() {
    local dir=$1 cc=$2 type=$3
    shift 3
    echo "==> building $dir ($cc, $type)"
    CC=$cc cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
    ninja -C "$dir" -j "$JOBS"
}

run_demo() {
    build build/release gcc Release
    local k=build/release/src/kizuna
    echo "==> kizuna validate samples/*.json"
    "$k" validate samples/*.json
}

run_tests() {
    build build/release gcc Release
    echo "==> tests: release build (gcc)"
    ctest --test-dir build/release --output-on-failure -j "$JOBS"
    build build/asan clang Debug -DKZ_SANITIZE=ON -DKZ_FUZZ=ON
    echo "==> tests: ASan+UBSan build (clang)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build/asan --output-on-failure -j "$JOBS"
    echo "==> fuzz smoke run (10 s per target)"
    for f in build/asan/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        local name corpus
        name=$(basename "$f")
        corpus=$(mktemp -d)
        [ -d "fuzz/corpus/${name#fuzz_}" ] && cp -r "fuzz/corpus/${name#fuzz_}/." "$corpus/"
        "$f" -max_total_time=10 -max_len=65536 "$corpus" >"$corpus.log" 2>&1 ||
            { tail -40 "$corpus.log"; echo "fuzzer $name failed"; exit 1; }
        echo "$name: $(grep -c . "$corpus.log" >/dev/null; tail -1 "$corpus.log")"
        rm -rf "$corpus" "$corpus.log"
    done
}

install_packages
case "${1:-run}" in
    run) run_demo ;;
    test) run_tests ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac
