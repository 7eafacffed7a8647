#!/usr/bin/env bash
# CLI test for `kizuna pattern`: validate / inspect / print and their exit codes, stdin input,
# the 2.0/2.1 switch, usage errors and the hand-off of `match`.
# Usage: pattern_cli.sh KIZUNA_BINARY SHARED_DIR SOURCE_DIR
set -u
K="$1"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name expected_rc actual_rc
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: exit $3, expected $2"
        fail=1
    else
        echo "ok   $1"
    fi
}
contains() { # name file text
    if ! grep -qF -- "$3" "$2"; then
        echo "FAIL $1: '$3' not in output:"
        cat "$2"
        fail=1
    fi
}

"$K" pattern validate "[file:size = 1280]" >"$tmp/out" 2>"$tmp/err"
check "validate valid" 0 $?
contains "validate valid prints valid" "$tmp/out" "valid"

"$K" pattern validate "[file:size = ]" >"$tmp/out" 2>"$tmp/err"
check "validate invalid" 2 $?
contains "validate error position" "$tmp/err" "1:14: expected a literal after '='"
[ -s "$tmp/out" ] && { echo "FAIL validate invalid wrote to stdout"; fail=1; }

"$K" pattern validate "[file:hashes.'SHA-256' = 'f00']" >"$tmp/out" 2>"$tmp/err"
check "validate semantic error" 2 $?
contains "semantic message" "$tmp/err" "not a valid SHA-256 hash"

"$K" pattern validate "[EXISTS file:name]" >/dev/null 2>&1
check "EXISTS in 2.1" 0 $?
"$K" pattern validate --stix-version 2.0 "[EXISTS file:name]" >/dev/null 2>"$tmp/err"
check "EXISTS in 2.0" 2 $?
contains "EXISTS 2.0 message" "$tmp/err" "EXISTS is not part of STIX 2.0"
"$K" pattern validate --stix-version=2.0 "[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'" >/dev/null 2>&1
check "2.0 START strings" 0 $?

echo "[a:b = 1] AND [c:d = 'x']" | "$K" pattern validate - >"$tmp/out" 2>&1
check "validate from stdin" 0 $?

"$K" pattern print "[a:b==1]AND([c:d<>'x'])" >"$tmp/out" 2>&1
check "print" 0 $?
contains "print canonical" "$tmp/out" "[a:b = 1] AND [c:d != 'x']"
canon=$(cat "$tmp/out")
"$K" pattern print "$canon" >"$tmp/out2" 2>&1
cmp -s "$tmp/out" "$tmp/out2" || { echo "FAIL print not idempotent"; fail=1; }
"$K" pattern print "[a:b = " >/dev/null 2>&1
check "print invalid" 2 $?

"$K" pattern inspect "[obj-type:a.b[*][1].'c-d' NOT ISSUPERSET '1.2.3.4/16'] REPEATS 3 TIMES" >"$tmp/out" 2>&1
check "inspect" 0 $?
contains "inspect operator" "$tmp/out" '"operator": "NOT ISSUPERSET"'
contains "inspect qualifier" "$tmp/out" '"REPEATS 3 TIMES"'
contains "inspect path star" "$tmp/out" '"*"'
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["comparisons"][0]["path"]==["a","b","*",1,"c-d"], d' "$tmp/out" \
        || { echo "FAIL inspect JSON shape"; fail=1; }
fi
"$K" pattern inspect "[foo:bar=1] within 2 seconds" >/dev/null 2>"$tmp/err"
check "inspect invalid" 2 $?
contains "lowercase keyword hint" "$tmp/err" "1:13:"

"$K" pattern --help >"$tmp/out" 2>&1
check "help" 0 $?
contains "help text" "$tmp/out" "kizuna pattern validate"
"$K" pattern >/dev/null 2>&1
check "no subcommand" 2 $?
"$K" pattern frobnicate x >/dev/null 2>&1
check "unknown subcommand" 2 $?
"$K" pattern validate >/dev/null 2>&1
check "missing pattern" 2 $?
"$K" pattern validate --stix-version 3.0 "[a:b = 1]" >/dev/null 2>&1
check "bad version" 2 $?
"$K" pattern validate "[a:b = 1]" "[c:d = 2]" >/dev/null 2>&1
check "two patterns" 2 $?

# `match` is dispatched to cmd_pattern_match (whatever it does, it is not our usage error)
"$K" pattern match >/dev/null 2>"$tmp/err"
rc=$?
if grep -q "unknown subcommand" "$tmp/err"; then echo "FAIL match not dispatched"; fail=1; else echo "ok   match dispatched (exit $rc)"; fi

exit $fail
