#!/bin/sh
# Rebuild the tiny world's committed models in order, each resumable from its run directory.
# Two single-threaded jobs at a time keep both cores busy without oversubscribing them.
set -eu
V2L=${V2L:-.venv/bin/v2l}
"$V2L" pretrain vae --out runs/pretrain/vae --minutes 50 --threads 1 --install
"$V2L" pretrain clip --out runs/pretrain/clip --minutes 15 --threads 1 --install &
clip=$!
"$V2L" pretrain judge --out runs/pretrain/judge --minutes 12 --threads 1 --install
wait $clip
"$V2L" pretrain backbone --out runs/pretrain/backbone --minutes 40 --threads 2 --install
"$V2L" evaluate world
"$V2L" evaluate steer --semantics pan_left,zoom_in,melt,sepia --minutes 5 --workers 2 --threads 1
# The hypernetwork release run (issue 5) on the world above: train, then measure and commit it.
"$V2L" evaluate probe --config pipelines/configs/tiny-staged.yaml
# Stage 1 (codes) on 1 worker, then distillation + fine-tuning on 2 workers from its step-5000 checkpoint.
"$V2L" train --config pipelines/configs/tiny-staged.yaml --max-steps 5000
mkdir -p runs/train/tiny-staged-diverse/checkpoints
cp -r runs/train/tiny-staged/checkpoints/step-00005000 runs/train/tiny-staged-diverse/checkpoints/
echo step-00005000 > runs/train/tiny-staged-diverse/checkpoints/latest
"$V2L" train --config pipelines/configs/tiny-staged-diverse.yaml
"$V2L" evaluate hypernet --checkpoint runs/train/tiny-staged-diverse/checkpoints/step-00036000 --codes --install --threads 2
