#!/usr/bin/env bash
# `kizuna sensor` --sighting-observed-data against a real hub on 127.0.0.1:
# each sighting carries the observed-data of its first hit; all validates. The logic is in sensor_observed.py.
# Never contacts anything but 127.0.0.1.
# Usage: bash sensor_observed.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_observed.py" "$1" "$2"
