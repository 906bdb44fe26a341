#!/usr/bin/env bash
# The main job end to end on a small built-in dataset. Called by `make demo` with the output directory.
set -euo pipefail
OUT=${1:-demo_out}
mkdir -p "$OUT"
echo "== taokit demo: output in $OUT"

echo "== 1. default specs for every action"
tao detectnet default_specs -r "$OUT/specs" --force

echo "== 2. validate them and show the resolved training config"
for f in "$OUT"/specs/*.txt; do tao spec check "$f" --task detectnet > /dev/null && echo "valid: $f"; done

echo "== 3. protobuf text -> YAML -> protobuf text round trip"
tao spec convert "$OUT/specs/train.txt" -o "$OUT/specs/train.yaml" --task detectnet_v2 --force
tao spec convert "$OUT/specs/train.yaml" -o "$OUT/specs/train_roundtrip.txt" --task detectnet_v2 --force
tao spec check "$OUT/specs/train_roundtrip.txt" --task detectnet training_config.num_epochs=5 | grep -m1 "num_epochs"
echo "== done: specs in $OUT/specs"
