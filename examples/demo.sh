#!/usr/bin/env bash
# The main job end to end on the built-in synthetic dataset; `make demo` runs it from the repository root.
# TAO's loop: generate -> dataset_convert -> train (L1) -> evaluate -> prune -> retrain -> evaluate ->
# export (ONNX, INT8, DeepStream, Triton) -> evaluate INT8 -> inference with INT8 -> benchmark.
set -euo pipefail
OUT=demo_out   # the demo specs in specs/detectnet/ point here
MIN_MAP=${MIN_MAP:-0.8}
if [[ -d $OUT && ! -f $OUT/.taokit-demo ]]; then
  echo "error: $OUT exists and was not made by the demo; move it away first" >&2; exit 2
fi
rm -rf "$OUT"; mkdir -p "$OUT"; touch "$OUT/.taokit-demo"
start=$(date +%s)
step() { echo; echo "== $1  ($(( $(date +%s) - start )) s)"; }
metric() { python -c "import json; print(round(json.load(open('$1'))['mAP'], 4))"; }

step "1/10 generate a synthetic KITTI dataset (cars, pedestrians, cyclists)"
tao dataset generate detectnet -o $OUT/data -n 400

step "2/10 dataset_convert: KITTI -> shards, 15% validation fold"
tao detectnet dataset_convert -d specs/detectnet/dataset_convert.txt -o $OUT/data/shards/demo -r $OUT/convert

step "3/10 train DetectNet_v2 (resnet10, 320x192, L1 regularizer) on the CPU"
tao model detectnet_v2 train -e specs/detectnet/train.txt -r $OUT/train -n demo_detector

step "4/10 evaluate (INTEGRATE AP at IoU 0.5)"
tao detectnet evaluate -e specs/detectnet/train.txt -m $OUT/train/weights/demo_detector.pth -r $OUT/evaluate

step "5/10 prune: filters under 0.9 of each layer's largest norm go (TAO's rules)"
tao detectnet prune -m $OUT/train/weights/demo_detector.pth -o $OUT/prune/demo_detector_pruned.pth \
    -pth 0.9 -eq union -pg 8 -nf 16 -r $OUT/prune

step "6/10 retrain the pruned graph (load_graph: true)"
tao detectnet train -e specs/detectnet/retrain.txt -r $OUT/retrain -n demo_detector_pruned

step "7/10 evaluate the retrained model"
tao detectnet evaluate -e specs/detectnet/train.txt -m $OUT/retrain/weights/demo_detector_pruned.pth \
    -r $OUT/evaluate_retrained

step "8/10 export: ONNX (input_1 -> output_cov/Sigmoid, output_bbox/BiasAdd), INT8, DeepStream, Triton"
tao detectnet export -m $OUT/retrain/weights/demo_detector_pruned.pth -o $OUT/export/demo_detector.onnx \
    -e specs/detectnet/train.txt --data_type int8 --gen_ds_config --gen_triton_repo $OUT/export/triton

step "9/10 evaluate the INT8 model on ONNX Runtime"
tao detectnet evaluate -e specs/detectnet/train.txt -m $OUT/export/demo_detector_int8.onnx -r $OUT/evaluate_int8

step "10/10 inference with the INT8 model (TAO's inference spec), and a benchmark"
tao detectnet inference -e specs/detectnet/inference.txt -m $OUT/export/demo_detector_int8.onnx \
    -i $OUT/data/testing/image_2 -r $OUT/inference
tao detectnet benchmark -m $OUT/train/weights/demo_detector.pth -m $OUT/retrain/weights/demo_detector_pruned.pth \
    -m $OUT/export/demo_detector.onnx -m $OUT/export/demo_detector_int8.onnx -b 8 --runs 10

map=$(metric $OUT/evaluate/metrics.json)
map_retrained=$(metric $OUT/evaluate_retrained/metrics.json)
map_int8=$(metric $OUT/evaluate_int8/metrics.json)
echo
echo "== demo finished in $(( $(date +%s) - start )) s"
echo "   mAP (INTEGRATE, IoU 0.5): trained $map (required: >= $MIN_MAP), pruned+retrained $map_retrained,"
echo "                             pruned+retrained INT8 (ONNX Runtime) $map_int8"
echo "   dataset:     $OUT/data (shards in $OUT/data/shards)"
echo "   models:      $OUT/train/weights/demo_detector.pth, $OUT/retrain/weights/demo_detector_pruned.pth"
echo "                (status.json, events/ and checkpoints/ beside each)"
echo "   evaluation:  $OUT/evaluate*/metrics.json and pr_curves.png"
echo "   deployment:  $OUT/export (demo_detector.onnx, _int8.onnx, _int8_trt.onnx, cal.bin, labels.txt,"
echo "                nvinfer_config.txt, triton/)"
echo "   inference:   $OUT/inference/labels, $OUT/inference/images_annotated"
for value in $map $map_retrained $map_int8; do
  python -c "import sys; sys.exit(0 if $value >= $MIN_MAP else 1)" || { echo "error: mAP $value below $MIN_MAP" >&2; exit 1; }
done
