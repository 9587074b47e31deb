#!/usr/bin/env bash
# The claims' control runs (docs/claims.md, claims 5 and 6): each config trained as its shipped
# counterpart was, 8 epochs then resumed to 16, exported to runs/claims (never weights/).
# Resumable: a killed run continues from runs/NAME/state.pt; an exported 16-epoch run is skipped.
# usage: bash train/queue_claims.sh NAME...   (logs in runs/NAME/train.log)
set -u
cd "$(dirname "$0")/.."
for name in "$@"; do
  if python -c "import json,sys; sys.exit(0 if json.load(open('runs/claims/$name.json'))['epochs'] == 16 else 1)" 2>/dev/null; then
    echo "skip $name (exported at 16 epochs)"; continue
  fi
  mkdir -p "runs/$name"
  { python -m train --config "train/configs/$name.yaml" && python -m train --config "train/configs/$name.yaml" epochs=16; } \
    >> "runs/$name/train.log" 2>&1 || echo "FAILED $name"
done
