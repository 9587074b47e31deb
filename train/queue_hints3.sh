#!/usr/bin/env bash
# Stage 3 of the landscapes and general hint-aware models (train/configs/hints3): for each
# NAME, keep the stage-2 model as runs/stage2/NAME, fine-tune it on lightness-guided hint maps,
# export to weights/ and calibrate. Resumable (runs/hints3/NAME/state.pt); a model whose
# sidecar already says guided and calibrated is skipped.
# usage: bash train/queue_hints3.sh NAME...
set -u
cd "$(dirname "$0")/.."
sidecar() { python -c "import json,sys; m=json.load(open('weights/$1.json')); print(eval(sys.argv[1]))" "$2"; }
mkdir -p runs/stage2 runs/hints3
for name in "$@"; do
  guided="bool(m.get('arch_kwargs', {}).get('guided'))"
  if [ "$(sidecar "$name" "$guided and 'calibration' in m")" = True ]; then
    echo "skip $name (stage 3 exported and calibrated)"; continue
  fi
  mkdir -p "runs/hints3/$name"
  [ -f "runs/stage2/$name.safetensors" ] || cp "weights/$name.safetensors" "weights/$name.json" runs/stage2/
  { [ "$(sidecar "$name" "$guided")" = True ] || python -m train --config "train/configs/hints3/$name.yaml"; } \
      >> "runs/hints3/$name/train.log" 2>&1 \
    && python -m train.calibrate "$name" --threads 1 >> "runs/hints3/$name/train.log" 2>&1 \
    || echo "FAILED $name"
done
