#!/bin/sh
# kill -9 during training, then resume: train_learned_primal_dual started again with the same options must
# write bitwise the weights of an uninterrupted run, wherever the kill landed (before the first checkpoint,
# between checkpoints or during a write). Usage: kill_resume.sh PROGRAM WORK_DIR
set -e
program=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
args="--size 16 --angles 6 --iterations 2 --width 4 --steps 300 --validate-every 300 --validation 1 --threads 1"
"$program" $args --output "$dir/uninterrupted.safetensors" > "$dir/uninterrupted.log"
"$program" $args --checkpoint "$dir/run.ckpt" --checkpoint-every 7 --output "$dir/resumed.safetensors" \
  > "$dir/killed.log" &
pid=$!
sleep 0.4
kill -9 "$pid" 2> /dev/null || echo "the run ended before the kill"
wait "$pid" 2> /dev/null || true
"$program" $args --checkpoint "$dir/run.ckpt" --checkpoint-every 7 --output "$dir/resumed.safetensors" \
  > "$dir/resumed.log"
grep "resumed from" "$dir/resumed.log" || echo "no checkpoint was written before the kill: trained from the start"
cmp "$dir/uninterrupted.safetensors" "$dir/resumed.safetensors"
echo "resumed weights = uninterrupted weights"
