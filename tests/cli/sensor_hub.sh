#!/usr/bin/env bash
# `kizuna sensor --once` against a real hub on 127.0.0.1: pull, sightings, outage, restart
# (answer key via kizuna gen).
# Usage: bash sensor_hub.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_hub.py" "$1" "$2"
