#!/usr/bin/env bash
# `kizuna sensor --once` with indicators from a file: generated telemetry with planted hits
# (answer key), gzip, config file, malformed input, follow mode across rotation, real
# captures and Zeek logs. The logic is in sensor_files.py. Loopback only: no hub here.
# Usage: bash sensor_files.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_files.py" "$1" "$2"
