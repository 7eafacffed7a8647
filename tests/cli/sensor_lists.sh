#!/usr/bin/env bash
# `kizuna sensor` over Zeek dns and smtp logs: DNS answers are the query's resolves_to_refs and
# mail recipients the message's to_refs, so patterns over those lists alert.
# The logic is in sensor_lists.py. Files only: nothing is sent on any network.
# Usage: bash sensor_lists.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed (the sensor tests are driven by its standard library)"
    exit 77
fi
exec python3 "$3/tests/cli/sensor_lists.py" "$1" "$2"
