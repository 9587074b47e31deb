#!/usr/bin/env bash
# Extra training seeds of the shipped faces configs' last stage (train/configs/hints2), for
# the spread over seeds (docs/seeds.json): each starts from the same stage-1 model
# (runs/stage1/NAME) with another seed (hint draws, crops, order), so the spread is that of
# the stage-2 fine-tune only. Weights go to runs/seeds, never weights/. Resumable.
# usage: bash train/queue_seeds.sh lab-faces:1 hsv-faces:1 ...
set -u
cd "$(dirname "$0")/.."
for item in "$@"; do
  cfg="${item%%:*}"; seed="${item##*:}"; name="$cfg-seed$seed"
  [ -f "runs/seeds/$name.json" ] && { echo "skip $name (exported)"; continue; }
  until [ -f "runs/stage1/$cfg.safetensors" ]; do sleep 30; done
  mkdir -p "runs/hints2/$name"
  python -m train --config "train/configs/hints2/$cfg.yaml" seed="$seed" name="$name" export_dir=runs/seeds \
    >> "runs/hints2/$name/train.log" 2>&1 || echo "FAILED $name"
done
