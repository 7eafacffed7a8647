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
    local k=$ROOT/build/release/src/kizuna
    # The sensor demo: generated indicators and telemetry (Zeek, EVE, pcap) with planted hits,
    # a hub on 127.0.0.1 (plain HTTP, loopback only), a sensor run, the alerts and the
    # sightings arriving at the hub. Everything lives under build/demo and is remade each run.
    local demo=$ROOT/build/demo
    rm -rf "$demo"
    mkdir -p "$demo"
    echo "==> kizuna gen: 2000 sample indicators and telemetry with 25 planted hits"
    "$k" gen indicators --count 2000 --seed 7 --out "$demo/indicators.json"
    "$k" gen telemetry --indicators "$demo/indicators.json" --out-dir "$demo/telemetry" \
        --records 1500 --hits 25 --seed 7
    echo "==> a hub on 127.0.0.1 (data in build/demo/hub)"
    local D=$demo/hub org intel sight hub_pid="" port=""
    org=$("$k" admin --data "$D" org add demo-org | cut -f2)
    echo "demo-password" | "$k" admin --data "$D" user add analyst --org demo-org >/dev/null
    intel=$("$k" admin --data "$D" collection add --title "Demo indicators" --alias indicators)
    sight=$("$k" admin --data "$D" collection add --title "Demo sightings" --alias sightings)
    "$k" admin --data "$D" grant read,write "$intel" --user analyst
    "$k" admin --data "$D" grant read,write "$sight" --user analyst
    "$k" hub --data "$D" --listen 127.0.0.1:0 --plain-http 2>"$demo/hub.log" &
    hub_pid=$!
    # shellcheck disable=SC2064 # the pid is known now
    trap "kill $hub_pid 2>/dev/null || true" EXIT
    for _ in $(seq 1 150); do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$demo/hub.log")
        [ -n "$port" ] && break
        kill -0 "$hub_pid" 2>/dev/null || { cat "$demo/hub.log"; echo "the hub did not start"; exit 1; }
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$demo/hub.log"; echo "the hub did not start"; exit 1; }
    local url=http://127.0.0.1:$port/api/
    export KIZUNA_PASSWORD=demo-password
    echo "==> kizuna taxii post: the indicators go to the hub ($url)"
    "$k" taxii post "$url" --collection "$intel" --user analyst --batch 1000 \
        "$demo/indicators.json" | tail -1
    echo "==> kizuna sensor --once: Zeek logs, EVE and a pcap against the hub's indicators"
    local t=$demo/telemetry
    "$k" sensor --once --hub "$url" --collection "$intel" --user analyst \
        --sightings-collection "$sight" --org "$org" --state "$demo/sensor-state" \
        --sensor-name demo-sensor --alerts "$demo/alerts.jsonl" \
        --input "zeek:$t/conn.log" --input "zeek:$t/dns.log" --input "zeek:$t/http.log" \
        --input "zeek:$t/ssl.log" --input "zeek:$t/files.log" --input "eve:$t/eve.json" \
        --input "pcap:$t/traffic.pcap"
    echo "==> alerts raised ($(wc -l <"$demo/alerts.jsonl") in build/demo/alerts.jsonl; the answer key lists $(wc -l <"$t/expected-hits.jsonl") places; a FOLLOWEDBY hit alerts once per source, where its last part is read)"
    python3 -c '
import json, sys
for n, ln in enumerate(open(sys.argv[1])):
    if n == 20:
        break
    a = json.loads(ln)
    where = "%s:%s" % (a["input"].rsplit("/", 1)[-1], a.get("line", a.get("packet")))
    print("  %-20s %-15s -> %-15s %s" % (where, a.get("src_ip", "-"), a.get("dest_ip", "-"),
                                        a["alert"]["signature"]))
' "$demo/alerts.jsonl"
    echo "  ..."
    echo "==> sightings at the hub (kizuna taxii get --match-type sighting)"
    "$k" taxii get "$url" --collection "$sight" --match-type sighting --all --user analyst \
        >"$demo/sightings.jsonl"
    python3 -c '
import json, sys
objs = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
for s in objs[:10]:
    print("  %s  count %-3d %s .. %s" % (s["sighting_of_ref"], s["count"], s["first_seen"],
                                        s["last_seen"]))
print("  %d sightings, total count %d" % (len(objs), sum(s["count"] for s in objs)))
' "$demo/sightings.jsonl"
    kill "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
    trap - EXIT
    unset KIZUNA_PASSWORD
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
    # The engine's threads (readers during updates, the background merge) under
    # ThreadSanitizer: only that test, since the other threaded code runs in libraries
    # (libmicrohttpd, libcurl) that are not instrumented.
    echo "==> building build/tsan (clang, ThreadSanitizer): test_engine_live"
    CC=clang cmake -S "$ROOT" -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKZ_TSAN=ON >/dev/null
    ninja -C build/tsan -j "$JOBS" test_engine_live
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build/tsan/tests/test_engine_live
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
