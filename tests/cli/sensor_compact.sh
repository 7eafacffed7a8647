#!/usr/bin/env bash
# `kizuna sensor` compacts the indicator set on disk (STATE/indicators.jsonl) against a real hub
# on 127.0.0.1: versions, revocations, restarts without the hub, a crash at every stage.
# Usage: bash sensor_compact.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_compact.py" "$1" "$2"
