#!/usr/bin/env bash
# Extra training seeds of the shipped faces configs, for the spread over seeds (docs/seeds.json).
# Each seed re-runs both hint stages of the shipped recipe (train/configs/stage1-hints, then
# train/configs/stage2-prior-gate) from the same automatic checkpoint (runs/auto/NAME: the NAME of commit
# 28af77b), with another seed for everything the fine-tune draws (hints, crops, order), so the
# spread is that of the whole hint fine-tune. Weights go to runs/seeds, never weights/. Resumable:
# a killed stage continues from its state.pt, and a finished stage is skipped.
# usage: bash train/queue_seeds.sh lab-faces:1 hsv-faces:1 ...
set -u
cd "$(dirname "$0")/.."
for item in "$@"; do
  cfg="${item%%:*}"; seed="${item##*:}"; name="$cfg-seed$seed"
  [ -f "runs/seeds/$name.json" ] && { echo "skip $name (exported)"; continue; }
  mkdir -p "runs/hints/$name" "runs/hints2/$name"
  if [ ! -f "runs/seeds/stage1/$name.json" ]; then
    python -m train --config "train/configs/stage1-hints/$cfg.yaml" seed="$seed" name="$name" \
      export_dir=runs/seeds/stage1 >> "runs/hints/$name/train.log" 2>&1 || { echo "FAILED $name stage 1"; continue; }
  fi
  python -m train --config "train/configs/stage2-prior-gate/$cfg.yaml" seed="$seed" name="$name" \
    init_from="runs/seeds/stage1/$name.safetensors" export_dir=runs/seeds \
    >> "runs/hints2/$name/train.log" 2>&1 || echo "FAILED $name stage 2"
done
