#!/usr/bin/env bash
# The demo realm's RIM equals an independent prediction (tests/tools/predict_rim.py, hashlib only).
set -u
bin=$1; src=$2
got=$("$bin" tour | sed -n 's/^  RIM = //p' | head -1)
want=$(python3 "$src/tests/tools/predict_rim.py" demo)
echo "rmmemu RIM:    $got"
echo "predicted RIM: $want"
if [ -n "$got" ] && [ "$got" = "$want" ]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed"; exit 1
