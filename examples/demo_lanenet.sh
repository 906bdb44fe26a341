#!/usr/bin/env bash
# LaneNet end to end on synthetic road scenes; `make demo-lanenet` runs it from the repository root.
# generate (TuSimple labels) -> train (ENet, 256x128) -> evaluate (TuSimple + CULane rules) -> prune ->
# retrain -> export (ONNX, INT8) -> evaluate INT8 -> inference with INT8 -> benchmark.
set -euo pipefail
OUT=demo_out_lanenet   # specs/lanenet/train.txt points here
MIN_ACCURACY=${MIN_ACCURACY:-0.9}
if [[ -d $OUT && ! -f $OUT/.taokit-demo ]]; then
  echo "error: $OUT exists and was not made by the demo; move it away first" >&2; exit 2
fi
rm -rf "$OUT"; mkdir -p "$OUT"; touch "$OUT/.taokit-demo"
start=$(date +%s)
step() { echo; echo "== $1  ($(( $(date +%s) - start )) s)"; }
metric() { python -c "import json; m = json.load(open('$1')); print(round(m['tusimple']['$2'], 4))"; }
SPEC=specs/lanenet/train.txt

step "1/9 generate 300 synthetic road scenes (1280x720, TuSimple JSON lines; 60 for validation)"
tao dataset generate lanenet -o $OUT/data -n 300

step "2/9 train LaneNet (ENet encoder, 256x128) on the CPU"
tao lanenet train -e $SPEC -r $OUT/train -k KEY train_config.epochs=16 train_config.validation_period=8

step "3/9 evaluate with TuSimple's and CULane's official rules"
tao lanenet evaluate -e $SPEC -m $OUT/train/weights/model.pth -r $OUT/evaluate

step "4/9 prune: filters under 0.9 of each layer's largest norm go (TAO's rules; heads kept)"
tao lanenet prune -m $OUT/train/weights/model.pth -o $OUT/prune/model_pruned.pth -pth 0.9 -pg 8 -nf 8 \
    -r $OUT/prune

step "5/9 retrain the pruned graph (load_graph: true)"
tao lanenet train -e $SPEC -r $OUT/retrain model_config.pretrained_model_file=$OUT/prune/model_pruned.pth \
    model_config.load_graph=true train_config.epochs=6 train_config.validation_period=6 \
    train_config.learning_rate.soft_start_annealing_schedule.max_learning_rate=5e-4

step "6/9 evaluate the retrained model"
tao lanenet evaluate -e $SPEC -m $OUT/retrain/weights/model.pth -r $OUT/evaluate_retrained

step "7/9 export: ONNX (input_1 -> binary_seg, instance_embedding) and INT8 (no -e: the recorded spec)"
tao lanenet export -m $OUT/retrain/weights/model.pth -o $OUT/export/lanenet.onnx -k KEY --data_type int8

step "8/9 evaluate the INT8 model on ONNX Runtime"
tao lanenet evaluate -e $SPEC -m $OUT/export/lanenet_int8.onnx -r $OUT/evaluate_int8

step "9/9 inference with the INT8 model (TuSimple JSON, CULane lines, overlays), and a benchmark"
tao lanenet inference -m $OUT/export/lanenet_int8.onnx -i $OUT/data/images -o $OUT/inference -k KEY
tao lanenet benchmark -m $OUT/train/weights/model.pth -m $OUT/retrain/weights/model.pth \
    -m $OUT/export/lanenet.onnx -m $OUT/export/lanenet_int8.onnx -b 8 --runs 10

acc=$(metric $OUT/evaluate/metrics.json accuracy)
acc_retrained=$(metric $OUT/evaluate_retrained/metrics.json accuracy)
acc_int8=$(metric $OUT/evaluate_int8/metrics.json accuracy)
echo
echo "== lanenet demo finished in $(( $(date +%s) - start )) s"
echo "   TuSimple accuracy: trained $acc (required: >= $MIN_ACCURACY), pruned+retrained $acc_retrained,"
echo "                      pruned+retrained INT8 (ONNX Runtime) $acc_int8"
echo "   metrics:     $OUT/evaluate*/metrics.json (tusimple, culane, pixel); submissions beside them"
echo "   models:      $OUT/train/weights/model.pth, $OUT/retrain/weights/model.pth, $OUT/export/"
echo "   inference:   $OUT/inference (tusimple_predictions.json, lines/, images_annotated/)"
python -c "import sys; sys.exit(0 if $acc >= $MIN_ACCURACY else 1)" || {
  echo "error: TuSimple accuracy $acc is below $MIN_ACCURACY" >&2; exit 1; }
