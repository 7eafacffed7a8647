#!/usr/bin/env bash
# `kizuna sensor` --alerts syslog to a Unix socket the test binds itself
# (no syslog daemon needed). The logic is in sensor_syslog.py.
# Files only: nothing is sent on any network.
# Usage: bash sensor_syslog.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_syslog.py" "$1" "$2"
