#!/bin/bash
# The scores in eval.jsonl (2026-12-03): the 8,000-step student at 1, 2 and 4 steps, the shipped student and the teacher
# at 4 steps, 2,000 images each, 95 % bootstrap intervals. Run from the repository root, nothing else running, after
# `add-train add --steps 8000 --run runs/add-long --out runs/add-long/export --checkpoint-every 10m --resume`.
# The export is linked under the name the rows carry ("add-emoji-32-8000-steps").
set -e
ln -sfn "$PWD/runs/add-long/export" /tmp/add-emoji-32-8000-steps
OUT=docs/reproduction/runs/add-long/eval.jsonl
for s in 1 2 4; do add-train eval --model /tmp/add-emoji-32-8000-steps --steps $s --json $OUT; done
add-train eval --model models/add-emoji-32 --json $OUT
add-train eval --model models/emoji-32-teacher --steps 4 --json $OUT
