#!/usr/bin/env bash
# The main job end to end on the built-in synthetic dataset; `make demo` runs it from the repository root.
# generate -> dataset_convert -> train -> evaluate -> inference, with the specs in specs/detectnet/.
set -euo pipefail
OUT=demo_out   # the demo specs point here
MIN_MAP=${MIN_MAP:-0.8}
export TAOKIT_PLAIN=${TAOKIT_PLAIN:-}
if [[ -d $OUT && ! -f $OUT/.taokit-demo ]]; then
  echo "error: $OUT exists and was not made by the demo; move it away first" >&2; exit 2
fi
rm -rf "$OUT"; mkdir -p "$OUT"; touch "$OUT/.taokit-demo"
start=$(date +%s)
step() { echo; echo "== $1  ($(( $(date +%s) - start )) s)"; }

step "1/7 generate a synthetic KITTI dataset (cars, pedestrians, cyclists)"
tao dataset generate detectnet -o $OUT/data -n 400

step "2/7 dataset_convert: KITTI -> shards, 15% validation fold"
tao detectnet dataset_convert -d specs/detectnet/dataset_convert.txt -o $OUT/data/shards/demo -r $OUT/convert

step "3/7 train DetectNet_v2 (resnet10, 320x192) on the CPU"
tao model detectnet_v2 train -e specs/detectnet/train.txt -r $OUT/train -n demo_detector

step "4/7 evaluate (INTEGRATE AP at IoU 0.5)"
tao detectnet evaluate -e specs/detectnet/train.txt -m $OUT/train/weights/demo_detector.pth -r $OUT/evaluate

step "5/7 inference on unlabelled images with TAO's inference spec"
tao detectnet inference -e specs/detectnet/inference.txt -i $OUT/data/testing/image_2 -r $OUT/inference

step "6/7 export: ONNX (input_1 -> output_cov/Sigmoid, output_bbox/BiasAdd), INT8, DeepStream config"
tao detectnet export -m $OUT/train/weights/demo_detector.pth -o $OUT/export/demo_detector.onnx \
    -e specs/detectnet/train.txt --data_type int8 --gen_ds_config --gen_triton_repo $OUT/export/triton
tao detectnet evaluate -e specs/detectnet/train.txt -m $OUT/export/demo_detector_int8.onnx -r $OUT/evaluate_int8

step "7/7 inference with the INT8 model on ONNX Runtime"
tao detectnet inference -e specs/detectnet/inference.txt -m $OUT/export/demo_detector_int8.onnx \
    -i $OUT/data/testing/image_2 -r $OUT/inference_int8
tao detectnet benchmark -m $OUT/train/weights/demo_detector.pth -m $OUT/export/demo_detector.onnx \
    -m $OUT/export/demo_detector_int8.onnx -b 8 --runs 10

metric() { python -c "import json; print(round(json.load(open('$1'))['mAP'], 4))"; }
map=$(metric $OUT/evaluate/metrics.json)
map_int8=$(metric $OUT/evaluate_int8/metrics.json)
echo
echo "== demo finished in $(( $(date +%s) - start )) s"
echo "   mAP (INTEGRATE, IoU 0.5): $map   (required: >= $MIN_MAP); INT8 ONNX: $map_int8"
echo "   dataset:     $OUT/data (shards in $OUT/data/shards)"
echo "   model:       $OUT/train/weights/demo_detector.pth (status.json, events/ and checkpoints/ beside it)"
echo "   evaluation:  $OUT/evaluate/metrics.json, $OUT/evaluate/pr_curves.png"
echo "   inference:   $OUT/inference/labels, $OUT/inference/images_annotated"
echo "   deployment:  $OUT/export (demo_detector.onnx, _int8.onnx, _int8_trt.onnx, cal.bin, labels.txt,"
echo "                nvinfer_config.txt, triton/); INT8 inference in $OUT/inference_int8"
python -c "import sys; sys.exit(0 if $map >= $MIN_MAP else 1)" || { echo "error: mAP below $MIN_MAP" >&2; exit 1; }
