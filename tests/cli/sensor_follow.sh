#!/usr/bin/env bash
# `kizuna sensor` following pcap and pcapng files as they grow, are rotated and truncated
# (tail -F), compared with `--once` on the same capture. The logic is in sensor_follow.py.
# Files only: nothing is sent on any network.
# Usage: bash sensor_follow.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_follow.py" "$1" "$2"
