#!/usr/bin/env bash
# Train configs one after another; each run resumes if interrupted and exports to weights/.
# usage: bash train/queue.sh NAME...   (logs in runs/NAME/train.log)
set -u
cd "$(dirname "$0")/.."
for name in "$@"; do
  [ -f "weights/$name.safetensors" ] && { echo "skip $name (exported)"; continue; }
  mkdir -p "runs/$name"
  python -m train --config "train/configs/$name.yaml" >> "runs/$name/train.log" 2>&1 || echo "FAILED $name"
done
