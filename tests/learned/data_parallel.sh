#!/bin/sh
# Data-parallel training of train_learned_primal_dual under mpirun: 1, 2, 3 (a batch of 4 split unevenly) and
# 4 ranks must write bitwise the same weights (tolerance 0) and print the same losses; a run stopped after
# step 5 on 4 ranks and resumed on 2 must write the weights of the uninterrupted run; a global batch smaller
# than the rank count is refused naming both numbers. Usage: data_parallel.sh MPIEXEC PROGRAM WORK_DIR
set -e
mpiexec=$1
program=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
args="--size 32 --angles 8 --iterations 2 --width 4 --steps 12 --validate-every 4 --validation 3 --threads 1"
run() {
  np=$1
  shift
  "$mpiexec" -np "$np" --oversubscribe "$program" $args "$@"
}
# The progress lines without their timings: loss, learning rate, validation loss and PSNR.
losses() { grep '^step' "$1" | sed 's/ [0-9.]* s\/step//'; }

run 1 --batch 4 --output "$dir/np1.safetensors" > "$dir/np1.log"
for np in 2 3 4; do
  run $np --batch 4 --output "$dir/np$np.safetensors" > "$dir/np$np.log"
  grep "ranks: $np, global batch 4" "$dir/np$np.log"
  cmp "$dir/np1.safetensors" "$dir/np$np.safetensors"
  losses "$dir/np1.log" > "$dir/np1.losses"
  losses "$dir/np$np.log" > "$dir/np$np.losses"
  cmp "$dir/np1.losses" "$dir/np$np.losses"
  echo "$np ranks: the weights and losses of 1 rank"
done

run 4 --batch 4 --checkpoint "$dir/run.ckpt" --checkpoint-every 2 --stop-at 5 > "$dir/stopped.log"
grep "stopped after step 5 of 12" "$dir/stopped.log"
run 2 --batch 4 --checkpoint "$dir/run.ckpt" --checkpoint-every 2 --output "$dir/resumed.safetensors" \
  > "$dir/resumed.log"
grep "resumed from .* at step 5" "$dir/resumed.log"
cmp "$dir/np1.safetensors" "$dir/resumed.safetensors"
echo "stopped on 4 ranks, resumed on 2: the weights of the uninterrupted run"

if run 4 --batch 2 > "$dir/small.log" 2> "$dir/small.err"; then
  echo "a batch of 2 on 4 ranks was not refused"
  exit 1
fi
grep "global batch (2) is smaller than the number of ranks (4)" "$dir/small.err"
