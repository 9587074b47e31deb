#!/usr/bin/env bash
# Stage 2 of the hint-aware models (train/configs/hints2): for each NAME, once its stage-1
# model is exported and calibrated, keep it as runs/stage1/NAME, fine-tune with the prior
# gate, export to weights/ and calibrate. Resumable (runs/hints2/NAME/state.pt); several
# queues may run at once (a model is taken by creating runs/hints2/NAME.taken).
# usage: bash train/queue_hints2.sh NAME...
set -u
cd "$(dirname "$0")/.."
sidecar() { python -c "import json,sys; m=json.load(open('weights/$1.json')); print(eval(sys.argv[1]))" "$2"; }
mkdir -p runs/stage1 runs/hints2
for name in "$@"; do
  gated="bool(m.get('arch_kwargs', {}).get('prior_gate'))"
  if [ "$(sidecar "$name" "$gated and 'calibration' in m")" = True ]; then
    echo "skip $name (stage 2 exported and calibrated)"; continue
  fi
  mkdir "runs/hints2/$name.taken" 2>/dev/null || { echo "skip $name (another queue has it)"; continue; }
  until [ "$(sidecar "$name" "$gated or (bool(m.get('hints')) and 'calibration' in m)")" = True ]; do sleep 30; done
  mkdir -p "runs/hints2/$name"
  [ -f "runs/stage1/$name.safetensors" ] || cp "weights/$name.safetensors" "weights/$name.json" runs/stage1/
  { [ "$(sidecar "$name" "$gated")" = True ] || python -m train --config "train/configs/hints2/$name.yaml"; } \
      >> "runs/hints2/$name/train.log" 2>&1 \
    && python -m train.calibrate "$name" --threads 1 >> "runs/hints2/$name/train.log" 2>&1 \
    || echo "FAILED $name"
done
