#!/usr/bin/env bash
# Extra training seeds of the shipped (hint-aware) configs, for the spread over seeds
# (docs/seeds.json): SPACE-CATEGORY:SEED ... -> runs/seeds/SPACE-CATEGORY-seedSEED.{safetensors,json}.
# Their weights are not shipped; resumable like every run (runs/hints/NAME/state.pt).
# usage: bash train/queue_seeds.sh lab-faces:1 hsv-faces:1 ...
set -u
cd "$(dirname "$0")/.."
for item in "$@"; do
  cfg="${item%%:*}"; seed="${item##*:}"; name="$cfg-seed$seed"
  [ -f "runs/seeds/$name.json" ] && { echo "skip $name (exported)"; continue; }
  mkdir -p "runs/hints/$name"
  python -m train --config "train/configs/hints/$cfg.yaml" seed="$seed" name="$name" export_dir=runs/seeds \
    >> "runs/hints/$name/train.log" 2>&1 || echo "FAILED $name"
done
