#!/usr/bin/env bash
# The hint-aware matrix models' fine-tune stages, one queue for all three:
#   1  train/configs/stage1-hints       the automatic checkpoint learns to take hints
#   2  train/configs/stage2-prior-gate  + the prior gate
#   3  train/configs/stage3-guided      + the lightness-guided spread, gate uncapped (landscapes, general)
# For each NAME: wait until the previous stage is exported and calibrated, keep that model as
# runs/{auto,stage1,stage2}/NAME (the next stage's init_from), fine-tune, export to weights/
# and calibrate. Resumable (runs/<run dir>/NAME/state.pt; run dirs: hints, hints2, hints3, the configs' out_dir); a NAME whose sidecar already
# shows the stage, calibrated, is skipped; several queues may run at once (a model is taken
# by creating runs/<run dir>/NAME.taken). Logs: runs/<run dir>/NAME/train.log.
# usage: bash train/queue_stage.sh STAGE NAME...
set -u
cd "$(dirname "$0")/.."
sidecar() { python -c "import json,sys; m=json.load(open('weights/$1.json')); a=m.get('arch_kwargs', {}); print(eval(sys.argv[1]))" "$2"; }
stage="${1:?usage: bash train/queue_stage.sh STAGE NAME...}"; shift
case "$stage" in
  1) cfg=stage1-hints;      dir=hints;  keep=auto;   has="bool(m.get('hints'))";        before="True" ;;
  2) cfg=stage2-prior-gate; dir=hints2; keep=stage1; has="bool(a.get('prior_gate'))";    before="bool(m.get('hints')) and 'calibration' in m" ;;
  3) cfg=stage3-guided;     dir=hints3; keep=stage2; has="bool(a.get('guided'))";        before="bool(a.get('prior_gate')) and 'calibration' in m" ;;
  *) echo "STAGE must be 1, 2 or 3, got $stage" >&2; exit 2 ;;
esac
mkdir -p "runs/$keep" "runs/$dir"
for name in "$@"; do
  if [ "$(sidecar "$name" "$has and 'calibration' in m")" = True ]; then
    echo "skip $name (stage $stage exported and calibrated)"; continue
  fi
  mkdir "runs/$dir/$name.taken" 2>/dev/null || { echo "skip $name (another queue has it)"; continue; }
  until [ "$(sidecar "$name" "$has or ($before)")" = True ]; do sleep 30; done
  mkdir -p "runs/$dir/$name"
  [ -f "runs/$keep/$name.safetensors" ] || cp "weights/$name.safetensors" "weights/$name.json" "runs/$keep/"
  { [ "$(sidecar "$name" "$has")" = True ] || python -m train --config "train/configs/$cfg/$name.yaml"; } \
      >> "runs/$dir/$name/train.log" 2>&1 \
    && python -m train.calibrate "$name" --threads 1 >> "runs/$dir/$name/train.log" 2>&1 \
    || echo "FAILED $name"
  rmdir "runs/$dir/$name.taken"
done
