#!/usr/bin/env bash
# Fine-tune automatic checkpoints to take hints, one after another (resumable: a killed run
# continues from runs/hints/NAME/state.pt); each exports to weights/ and is then calibrated.
# usage: bash train/queue_hints.sh NAME...   (logs in runs/hints/NAME/train.log)
set -u
cd "$(dirname "$0")/.."
for name in "$@"; do
  if python -c "import json,sys; sys.exit(0 if json.load(open('weights/$name.json')).get('hints') else 1)"; then
    echo "skip $name (hint-aware checkpoint exported)"; continue
  fi
  mkdir -p "runs/hints/$name"
  python -m train --config "train/configs/hints/$name.yaml" >> "runs/hints/$name/train.log" 2>&1 \
    && python -m train.calibrate "$name" --threads 1 >> "runs/hints/$name/train.log" 2>&1 \
    || echo "FAILED $name"
done
