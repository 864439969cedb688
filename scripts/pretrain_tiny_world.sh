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
"$V2L" evaluate steer --semantics pan_left,melt --minutes 5 --threads 1 &
steer=$!
"$V2L" evaluate steer --semantics zoom_in,sepia --minutes 5 --threads 1
wait $steer
