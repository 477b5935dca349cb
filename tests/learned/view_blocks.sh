#!/bin/sh
# Training with the physics distributed (train_learned_primal_dual --view-blocks K under mpirun): the views in
# K blocks dealt round robin to the ranks, every rank on the whole batch. 2 ranks with 2 blocks, 3 ranks with 4
# (uneven) and 1 rank with 3 blocks must print the losses, validation PSNRs and test PSNR of the one-process
# run with the whole projector to 1e-3 relative (the back projections are summed over the ranks: round-off);
# a run stopped after step 5 and resumed on the same ranks writes bitwise the weights of the uninterrupted
# run; fewer blocks than ranks and more blocks than angles are refused naming the numbers.
# Combined with batch data parallelism (--physics-ranks P: size / P groups of P ranks, each group sharing the
# blocks and taking its share of the batch): 4 ranks as 2 groups of 2 with 2 blocks and 2 ranks as 2 groups
# of 1 with 3 blocks print the same numbers of the one-process run to 1e-3 relative; a 2 x 2 run stopped
# after step 5 and resumed writes bitwise the weights of the uninterrupted 2 x 2 run; a P that does not
# divide the ranks, fewer blocks than P, more blocks than angles, a batch not divisible by the groups and
# --physics-ranks without --view-blocks are refused naming the numbers.
# Usage: view_blocks.sh MPIEXEC PROGRAM WORK_DIR
set -e
mpiexec=$1
program=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
args="--size 32 --angles 8 --iterations 2 --width 4 --steps 12 --validate-every 4 --validation 3 --threads 1
      --batch 2 --test 2"
run() {
  np=$1
  shift
  "$mpiexec" -np "$np" --oversubscribe "$program" $args "$@"
}
# The numbers of the progress and test lines (loss, learning rate, validation loss and PSNR; test PSNRs).
numbers() { grep -E '^(step|test)' "$1" | sed 's/ [0-9.]* s\/step//' | tr -s ' ' '\n' | grep -E '^[0-9.e+-]+$'; }
# Every number of $1 equals the one of $2 to 1e-3 relative.
same_numbers() {
  numbers "$1" > "$1.numbers"
  numbers "$2" > "$2.numbers"
  [ "$(wc -l < "$1.numbers")" -eq "$(wc -l < "$2.numbers")" ] && [ "$(wc -l < "$1.numbers")" -ge 14 ]
  paste "$1.numbers" "$2.numbers" | awk '{ d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2;
    if (d > 1e-3 * s + 1e-12) { print "differs: " $1 " " $2; bad = 1 } } END { exit bad }'
}

run 1 --output "$dir/whole.safetensors" > "$dir/whole.log"
for layout in "2 2" "3 4" "1 3"; do
  set -- $layout
  run "$1" --view-blocks "$2" --output "$dir/np$1.safetensors" > "$dir/np$1.log"
  grep "ranks: $1, global batch 2" "$dir/np$1.log"
  grep -E "rank 0: every sample of each batch, view blocks 0( [0-9]+)* of $2" "$dir/np$1.log"
  same_numbers "$dir/np$1.log" "$dir/whole.log"
  echo "$1 rank(s), $2 view blocks: the losses and PSNRs of the whole projector"
done

run 2 --view-blocks 2 --checkpoint "$dir/run.ckpt" --checkpoint-every 2 --stop-at 5 > "$dir/stopped.log"
grep "stopped after step 5 of 12" "$dir/stopped.log"
run 2 --view-blocks 2 --checkpoint "$dir/run.ckpt" --checkpoint-every 2 --output "$dir/resumed.safetensors" \
  > "$dir/resumed.log"
grep "resumed from .* at step 5" "$dir/resumed.log"
cmp "$dir/np2.safetensors" "$dir/resumed.safetensors"
echo "stopped and resumed on 2 ranks: the weights of the uninterrupted run"

for layout in "4 2 2" "2 1 3"; do
  set -- $layout
  name="np$1_p$2"
  run "$1" --physics-ranks "$2" --view-blocks "$3" --output "$dir/$name.safetensors" > "$dir/$name.log"
  grep "ranks: $1, global batch 2, groups: 2 of $2 ranks sharing a projector" "$dir/$name.log"
  # The samples each rank's trainer computes, gathered from the trainers: group 0 sample 0, group 1 sample 1.
  grep -E "rank $(($1 / 2 - 1)): group 0, samples 0\.\.0 of each batch, view blocks [0-9]+( [0-9]+)* of $3" \
    "$dir/$name.log"
  grep -E "rank $(($1 - 1)): group 1, samples 1\.\.1 of each batch, view blocks [0-9]+( [0-9]+)* of $3" "$dir/$name.log"
  same_numbers "$dir/$name.log" "$dir/whole.log"
  echo "$1 ranks as 2 groups of $2 with $3 view blocks: the losses and PSNRs of the whole projector"
done

both="--physics-ranks 2 --view-blocks 2 --checkpoint $dir/both.ckpt --checkpoint-every 2"
run 4 $both --stop-at 5 > "$dir/both_stopped.log"
grep "stopped after step 5 of 12" "$dir/both_stopped.log"
run 4 $both --output "$dir/both_resumed.safetensors" > "$dir/both_resumed.log"
grep "resumed from .* at step 5" "$dir/both_resumed.log"
cmp "$dir/np4_p2.safetensors" "$dir/both_resumed.safetensors"
echo "2 groups of 2 ranks stopped and resumed: the weights of the uninterrupted run"

# refused NAME NP MESSAGE ARGS...: the run fails and its error output holds MESSAGE.
refused() {
  name=$1
  np=$2
  message=$3
  shift 3
  if run "$np" "$@" > "$dir/$name.log" 2> "$dir/$name.err"; then
    echo "not refused on $np ranks: $*"
    exit 1
  fi
  grep -F -- "$message" "$dir/$name.err"
}
refused undivided 3 "--physics-ranks 2 does not divide the 3 ranks into groups" --physics-ranks 2 --view-blocks 2
refused few_group 4 "--view-blocks 1: fewer view blocks than ranks (2) sharing a projector" \
  --physics-ranks 2 --view-blocks 1
refused many_group 2 "--view-blocks 9: more view blocks than angles (8)" --physics-ranks 1 --view-blocks 9
refused uneven 2 "--batch 3 is not divisible by the 2 groups of --physics-ranks 1 (2 ranks)" \
  --physics-ranks 1 --view-blocks 2 --batch 3
refused no_blocks 2 "--physics-ranks 1 needs --view-blocks" --physics-ranks 1

if run 2 --view-blocks 1 > "$dir/few.log" 2> "$dir/few.err"; then
  echo "1 view block on 2 ranks was not refused"
  exit 1
fi
grep -- "--view-blocks 1: fewer view blocks than ranks (2)" "$dir/few.err"
if run 1 --view-blocks 9 > "$dir/many.log" 2> "$dir/many.err"; then
  echo "9 view blocks of 8 angles were not refused"
  exit 1
fi
grep -- "--view-blocks 9: more view blocks than angles (8)" "$dir/many.err"
