#!/bin/sh
# Rebuild the tiny world's committed models in order, each resumable from its run directory.
# Two single-threaded jobs at a time keep both cores busy without oversubscribing them.
set -eu
V2L=${V2L:-.venv/bin/v2l}
# The VAE runs alone: 2 threads (25.4 dB in 54 min; a 1-thread run reached 24.4 dB in 50).
"$V2L" pretrain vae --out runs/pretrain/vae --minutes 54 --threads 2 --install
"$V2L" pretrain clip --out runs/pretrain/clip --minutes 15 --threads 1 --install &
clip=$!
"$V2L" pretrain judge --out runs/pretrain/judge --minutes 12 --threads 1 --install
wait $clip
# The backbone runs alone too: 60 min on 2 threads (14,582 steps for the committed one).
"$V2L" pretrain backbone --out runs/pretrain/backbone --minutes 60 --threads 2 --install
"$V2L" evaluate world
"$V2L" evaluate steer --semantics pan_left,zoom_in,melt,sepia --minutes 5 --workers 2 --threads 1
# The hypernetwork release run (issue 5) on the world above: train, then measure and commit it.
"$V2L" evaluate probe --config experiments/tiny-staged.yaml
# All three stages on 2 Ray workers, one core each; resumable with --resume if it is stopped.
"$V2L" train --config pipelines/configs/tiny-staged-diverse-2w-512.yaml
"$V2L" evaluate hypernet --checkpoint runs/train/tiny-staged-diverse-2w-512/checkpoints/step-00036000 --codes --install --threads 2
