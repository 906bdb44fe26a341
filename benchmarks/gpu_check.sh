#!/usr/bin/env bash
# The GPU day in one call (<= 8 minutes): on a machine with CUDA torch, install taokit from carried wheels,
# run the gpu-marked tests, train DetectNet_v2 a few epochs on CUDA with and without --use_amp (and DDP over
# NCCL with two GPUs), export and run the ONNX, and write a report. Prepare the wheels here first:
#   make gpu-wheels            # small wheels of taokit's dependencies (not torch) into gpu_wheels/
#   run: bash benchmarks/gpu_check.sh   (carry gpu_wheels; the report lands in $OUT/gpu_report.md)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_check_out}; mkdir -p "$OUT"; REPORT=$OUT/gpu_report.md; WORK=$(mktemp -d)
PY=${PYTHON:-python3}
log() { echo "$*" | tee -a "$REPORT"; }
: > "$REPORT"
log "# taokit GPU check ($(date -u +%Y-%m-%dT%H:%MZ))"
log '```'; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$REPORT"; log '```'
if ! $PY -c "import taokit" 2>/dev/null; then
  $PY -m pip install --quiet --no-index --find-links gpu_wheels -e . --no-build-isolation 2>&1 | tail -3 \
    || $PY -m pip install --quiet -e . 2>&1 | tail -3
fi
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpus', torch.cuda.device_count())" \
  | tee -a "$REPORT"
GPUS=$($PY -c "import torch; print(torch.cuda.device_count())")
TAO="$PY -m taokit"

log "## gpu-marked tests"
timeout 180 $PY -m pytest -q -m "gpu or tensorrt" tests/gpu 2>&1 | tail -5 | tee -a "$REPORT"

log "## DetectNet_v2 training (demo spec, 400 synthetic images, 3 epochs)"
$TAO dataset generate detectnet -o "$WORK/data" -n 400 >/dev/null
common=(-e specs/detectnet/train.txt training_config.num_epochs=3 training_config.checkpoint_interval=3
        "dataset_config.data_sources[0].tfrecords_path=''"
        "dataset_config.data_sources[0].image_directory_path=$WORK/data/training/image_2"
        "dataset_config.data_sources[0].label_directory_path=$WORK/data/training/label_2"
        dataset_config.validation_fold=null
        "dataset_config.validation_data_source={image_directory_path: $WORK/data/training/image_2, label_directory_path: $WORK/data/training/label_2}")
rate() { $PY -c "import json,sys; r=[json.loads(l)['kpi']['images_per_s'] for l in open(sys.argv[1]) if 'images_per_s' in l and 'epoch' in l]; print(round(sum(r[1:])/max(len(r)-1,1),1))" "$1/status.json" 2>/dev/null || echo failed; }
for mode in cpu fp32 amp; do
  flags=(); [[ $mode == cpu ]] && flags=(--gpus 0); [[ $mode == amp ]] && flags=(--use_amp)
  timeout 150 $TAO detectnet train -r "$WORK/$mode" "${flags[@]}" "${common[@]}" > "$OUT/train_$mode.log" 2>&1
  log "- $mode: exit $?, $(rate "$WORK/$mode") images/s (epochs 2-3)"
done
if [[ $GPUS -ge 2 ]]; then
  timeout 150 $TAO detectnet train -r "$WORK/ddp" --gpus 2 "${common[@]}" > "$OUT/train_ddp.log" 2>&1
  log "- DDP 2 GPUs (NCCL): exit $?, $(rate "$WORK/ddp") images/s per process"
fi

log "## export and ONNX Runtime"
timeout 90 $TAO detectnet export -m "$WORK/fp32/weights/model.pth" -o "$WORK/export/model.onnx" > "$OUT/export.log" 2>&1
log "- export: exit $?"
timeout 90 $TAO detectnet benchmark -m "$WORK/fp32/weights/model.pth" -m "$WORK/export/model.onnx" -b 8 --runs 20 \
  2>&1 | tail -6 | tee -a "$REPORT"
log "done; logs in $OUT"
