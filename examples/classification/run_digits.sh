#!/usr/bin/env bash
# The classification walkthrough on a real dataset that ships inside a PyPI package: scikit-learn's
# handwritten digits (1,797 images, 10 classes) -> ImageFolder -> train -> evaluate -> INT8 -> inference.
# Run from the repository root with the venv's tao on PATH: bash examples/classification/run_digits.sh
# Outputs go to results/digits (the paths specs/classification/digits.txt names).
set -euo pipefail
OUT=results/digits
SPEC=specs/classification/digits.txt
rm -rf "$OUT"
start=$(date +%s)
step() { echo; echo "== $1  ($(( $(date +%s) - start )) s)"; }
accuracy() { python -c "import json; print(round(100 * json.load(open('$1'))['accuracy'], 2))"; }

step "1/6 write the digits as an ImageFolder (32x32, 80/20 stratified split)"
python examples/classification/digits_to_imagefolder.py -o $OUT/data

step "2/6 train a resnet18 from scratch on the CPU (30 epochs)"
tao classification train -e $SPEC -r $OUT/train
trained=$(( $(date +%s) - start ))

step "3/6 evaluate the FP32 model on the validation split"
tao classification evaluate -e $SPEC -m $OUT/train/weights/model.pth -r $OUT/evaluate

step "4/6 export: ONNX (input_1 -> predictions/Softmax), INT8 calibrated on 512 training images, DeepStream"
tao classification export -m $OUT/train/weights/model.pth -o $OUT/export/digits.onnx -e $SPEC \
    --data_type int8 --batches 16 --batch_size 32 --gen_ds_config

step "5/6 evaluate the INT8 ONNX model (ONNX Runtime)"
tao classification evaluate -e $SPEC -m $OUT/export/digits_int8.onnx -r $OUT/evaluate_int8

step "6/6 inference with the INT8 model; TAO's result.csv"
tao classification inference -m $OUT/export/digits_int8.onnx -d $OUT/data/val -r $OUT/inference -b 64 > /dev/null

echo
echo "== finished in $(( $(date +%s) - start )) s (data + training: $trained s)"
echo "   validation accuracy: FP32 $(accuracy $OUT/evaluate/metrics.json)%, INT8 $(accuracy $OUT/evaluate_int8/metrics.json)%"
echo "   outputs: $OUT/train (weights, classmap.json, training.csv, events), $OUT/export, $OUT/inference/result.csv"
