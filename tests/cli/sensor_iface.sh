#!/usr/bin/env bash
# `kizuna sensor` --input iface:lo: live capture on the loopback interface while
# the test sends DNS queries to 127.0.0.1. Skips (77) without the capture capability. The logic is in sensor_iface.py.
# Loopback only: nothing is sent to any other address.
# Usage: bash sensor_iface.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_iface.py" "$1" "$2"
