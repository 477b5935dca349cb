#!/usr/bin/env bash
# The bad inputs of issue 19's eight findings, each through the real programs (tomography_2d, tomography_3d, the
# benchmark runner), with memory bounded: every refused input must end with a non-zero exit status, no signal,
# no sanitizer report, and the expected message; the inputs that are accepted by design (a corrupt latest
# checkpoint falls back to the previous one; shell syntax in a config value reaches srun verbatim) must run.
#
# Memory bound: in a plain build every program runs under `ulimit -v 4194304` (4 GiB of address space). In a
# build with AddressSanitizer (detected from the binary) `ulimit -v` cannot be used (ASan reserves terabytes of
# shadow address space), so the bound is ASAN_OPTIONS instead: max_allocation_size_mb=4096 with
# allocator_may_return_null=0 (one allocation above 4 GiB is a sanitizer error, not a null pointer) and
# hard_rss_limit_mb=4096 (a resident size above 4 GiB ends the process with a report).
#
# Usage: scripts/bad_input_acceptance.sh [build dir, default build/release] [work dir, default a temporary one]
# Needs <build>/examples/tomography_2d and tomography_3d (exit 77, skipped, when either is missing) and Python 3
# with PyYAML for the runner (PYTHON, default python3). Exit status 0 when every case passes, 1 otherwise.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/release}" 2>/dev/null && pwd) || { echo "no build directory ${1:-build/release}"; exit 77; }
t2d=$build/examples/tomography_2d
t3d=$build/examples/tomography_3d
for program in "$t2d" "$t3d"; do
  [[ -x $program ]] || { echo "skipped: $program is not built"; exit 77; }
done
python=${PYTHON:-python3}
"$python" -c "import yaml" 2>/dev/null || { echo "skipped: $python has no PyYAML (the runner needs it)"; exit 77; }
if [[ -n ${2:-} ]]; then
  work=$2
  rm -rf "$work"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

if grep -q __asan_init "$t2d"; then
  mode="ASan+UBSan (ASAN_OPTIONS bound: 4096 MB per allocation, 4096 MB resident)"
  export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0:max_allocation_size_mb=4096:hard_rss_limit_mb=4096
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  limit=unlimited
else
  mode="plain build (ulimit -v 4194304)"
  limit=4194304
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive PYTHONDONTWRITEBYTECODE=1
echo "bad-input acceptance: $build, $mode"

passed=0
failed=0
# check NAME EXPECT FRAGMENT -- COMMAND...: runs COMMAND (cwd $work, memory bounded, 300 s at most);
# EXPECT is "error" (exit status 1..125, no signal) or "ok" (exit status 0); the output (stdout and stderr)
# must contain FRAGMENT (when not empty) and no sanitizer report.
check() {
  local name=$1 expect=$2 fragment=$3
  shift 4
  local log=$work/$name.log status verdict=""
  (cd "$work" && ulimit -v "$limit" && exec timeout -s KILL 300 "$@") >"$log" 2>&1
  status=$?
  if [[ $expect == error ]]; then
    ((status >= 1 && status <= 125)) || verdict="exit status $status (expected an error, without a signal)"
  else
    ((status == 0)) || verdict="exit status $status (expected 0)"
  fi
  if [[ -z $verdict && -n $fragment ]] && ! grep -qF -- "$fragment" "$log"; then verdict="no '$fragment' in the output"; fi
  if [[ -z $verdict ]] && grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer" "$log"; then
    verdict="sanitizer report"
  fi
  if [[ -z $verdict ]]; then
    passed=$((passed + 1))
    printf '  ok    %-34s exit %3d  %s\n' "$name" "$status" "$fragment"
  else
    failed=$((failed + 1))
    printf '  FAIL  %-34s %s\n' "$name" "$verdict"
    sed 's/^/        | /' "$log" | tail -n 15
  fi
}

# The crafted files (Python standard library only).
"$python" - "$work" "$root/tests/fixtures/blur/rgb.jpg" <<'EOF'
import json, math, os, struct, sys, zlib
work, jpeg_fixture = sys.argv[1], sys.argv[2]

def write(name, data):
    with open(os.path.join(work, name), "wb") as f:
        f.write(data)

def safetensors(header, data=b""):
    text = header.encode()
    return struct.pack("<Q", len(text)) + text + data

def npy(version, dict_text, data=b""):
    length = struct.pack("<H" if version == 1 else "<I", len(dict_text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + dict_text.encode("latin1") + data

def npy_dict(descr, shape):
    return "{'descr': '%s', 'fortran_order': False, 'shape': %s, }\n" % (descr, shape)

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

# 1: 200 KB of nested '[' in a safetensors header.
write("deep.safetensors", safetensors('{"__metadata__":' + "[" * 200000 + "]" * 200000 + "}"))
# 2: .npy v2 and v3 declaring a 4 GiB header.
for version in (2, 3):
    write(f"header4g_v{version}.npy", b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", 0xFFFFFFFF) + b"{'descr': '<f4'")
# 3: a .npy shape whose product overflows 64 bits; 4: an extent beyond 64 bits (was stoll's out_of_range).
write("overflow.npy", npy(1, npy_dict("<f4", "(4294967296, 4294967296)"), bytes(16)))
write("extent64.npy", npy(1, npy_dict("<f4", "(99999999999999999999, 8)"), bytes(16)))
# 4: a PNG claiming 100000 x 100000 (valid IHDR CRC), a JPEG claiming 65500 x 65500 (the fixture's SOF0 patched).
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)
write("huge.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
      + png_chunk(b"IEND", b""))
jpeg = bytearray(open(jpeg_fixture, "rb").read())
sof = jpeg.find(b"\xff\xc0")
assert sof >= 0
jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
write("huge.jpg", bytes(jpeg))
# 6: safetensors with an overflowing shape, overlapping tensors, and a 2^62 header length (was length_error).
write("shape_overflow.safetensors",
      safetensors('{"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}', bytes(4)))
write("overlap.safetensors", safetensors(
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
    bytes(12)))
write("length62.safetensors", struct.pack("<Q", 1 << 62) + b"{}")
# 5: tomography_3d projections (6 views of 12 x 12, --size 8) with one NaN.
values = [0.5 + 0.25 * math.sin(0.3 * i) for i in range(6 * 12 * 12)]
values[100] = float("nan")
write("nan_projections.npy", npy(1, npy_dict("<f4", "(6, 12, 12)").rstrip("\n").ljust(117) + "\n",
                                 struct.pack(f"<{len(values)}f", *values)))
# 7: runner configs: a newline in slurm_partition; shell syntax in a weights path and in Slurm values.
config = """dataset:
  - tomography_2d:
      img_size: 32
      num_operators: 1
      num_angles: 30
solver:
  - PnP:
      algorithm: pgd
      denoiser: %s
      init_method: ["zeros"]
      max_iter: 2
slurm_gres, slurm_ntasks_per_node, distribute_physics, distribute_denoiser, patch_size, overlap, max_batch_size: [
  ["cpu", 1, false, false, 0, 0, 0] ]
slurm_partition: %s
slurm_account: "a;b c"
"""
with open(os.path.join(work, "newline.yaml"), "w") as f:
    f.write(config % ("tv", json.dumps("gpu\nsrun touch PWNED0")))
weights = os.path.join(work, "w $(touch PWNED1) `touch PWNED2` ';x'.safetensors")
open(weights, "wb").close()
with open(os.path.join(work, "inject.yaml"), "w") as f:
    f.write(config % ("drunet\n      weights: " + json.dumps(weights), json.dumps("gpu $(touch PWNED3)")))
with open(os.path.join(work, "weights_path.txt"), "w") as f:
    f.write(weights)
EOF
[[ $? -eq 0 ]] || { echo "FAIL: the crafted files could not be written"; exit 1; }

t2d_common=(--baselines 0 --quiet --threads 1)
echo "1. safetensors header nested 200 KB deep (--weights)"
check deep_weights error "nests deeper than 64 levels" -- "$t2d" "${t2d_common[@]}" --size 32 --weights deep.safetensors --output-dir out_deep
echo "2. .npy v2/v3 header length of 4 GiB (--truth)"
for v in 2 3; do
  check "npy_header4g_v$v" error "header length 4294967295 exceeds" -- "$t2d" "${t2d_common[@]}" --denoiser tv --truth "header4g_v$v.npy" --output-dir out_h$v
done
echo "3. .npy shape whose product overflows (--truth)"
check npy_shape_overflow error "overflows 64 bits" -- "$t2d" "${t2d_common[@]}" --denoiser tv --truth overflow.npy --output-dir out_ovf
echo "4. declared sizes beyond the allocation limit, extents beyond 64 bits, --size that cannot fit"
check png_100000 error "a 100000 x 100000 PNG" -- "$t2d" "${t2d_common[@]}" --denoiser tv --truth huge.png --output-dir out_png
check jpeg_65500 error "a 65500 x 65500 JPEG" -- "$t2d" "${t2d_common[@]}" --denoiser tv --truth huge.jpg --output-dir out_jpg
check npy_extent_beyond_64_bits error "exceeds 64 bits" -- "$t2d" "${t2d_common[@]}" --denoiser tv --truth extent64.npy --output-dir out_e64
check size_200000 error "tomography_2d --size 200000 --angles 100 needs at least" -- "$t2d" "${t2d_common[@]}" --size 200000 --output-dir out_size
echo "5. NaN in the measured data (tomography_3d --projections-file)"
t3d_common=(--size 8 --projections 6 --iterations 2 --threads 1 --quiet --denoiser tv --baselines 0 --patch-size 0 --overlap 0)
check simulated_geometry ok "" -- "$t3d" "${t3d_common[@]}" --output-dir sim3d
check nan_projections error "the measured data holds NaN or Inf" -- "$t3d" "${t3d_common[@]}" --init zeros \
  --projections-file nan_projections.npy --vectors-file sim3d/geometry.txt --output-dir out_nan
echo "6. safetensors shape overflow, overlapping tensors, 2^62 header length (--weights)"
check safetensors_shape_overflow error "overflows 64 bits" -- "$t2d" "${t2d_common[@]}" --size 32 --weights shape_overflow.safetensors --output-dir out_so
check safetensors_overlap error "tensors 'a' [0, 8) and 'b' [4, 12) overlap" -- "$t2d" "${t2d_common[@]}" --size 32 --weights overlap.safetensors --output-dir out_ol
check safetensors_length_2_62 error "header length 4611686018427387904 exceeds" -- "$t2d" "${t2d_common[@]}" --size 32 --weights length62.safetensors --output-dir out_l62
echo "7. runner: control characters refused, shell syntax never expanded"
run=$root/tools/pnpdist_run.py
check runner_newline_partition error "contains the control character '\\n'" -- "$python" "$run" newline.yaml --dry-run --build-dir "$build" --out out_nl
mkdir -p "$work/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s/srun_argv.txt"\n' "$work" >"$work/bin/srun"
printf '#!/bin/sh\nPATH="%s/bin:$PATH" SLURM_CPUS_PER_TASK=1 bash "$1" >/dev/null 2>&1\necho "Submitted batch job 1"\n' "$work" >"$work/bin/sbatch"
chmod +x "$work/bin/srun" "$work/bin/sbatch"
check runner_shell_syntax_submitted ok "Submitted batch job 1" -- "$python" "$run" inject.yaml --slurm --sbatch "$work/bin/sbatch" \
  --build-dir "$build" --out out_inject --no-dashboard
if ls "$work"/PWNED* "$work"/out_inject/PWNED* >/dev/null 2>&1 || ! grep -qxF -- "$(cat "$work/weights_path.txt")" "$work/srun_argv.txt" 2>/dev/null; then
  failed=$((failed + 1))
  echo "  FAIL  runner_shell_syntax_verbatim        a \$(...) or \`...\` in a value ran, or the weights path did not reach srun verbatim"
else
  passed=$((passed + 1))
  printf '  ok    %-34s the weights path reached srun verbatim, nothing ran\n' runner_shell_syntax_verbatim
fi
echo "8. checkpoints"
ck=(--size 32 --denoiser tv --algorithm pgd --checkpoint ck/state.ckpt --checkpoint-every 1 --output-dir out_ck)
mkdir -p "$work/ck" "$work/ckdir.ckpt"
check checkpoint_first_run ok "" -- "$t2d" "${t2d_common[@]}" "${ck[@]}" --iterations 4
check checkpoint_beyond_iterations error "holds iteration 4, beyond max_iterations 2" -- "$t2d" "${t2d_common[@]}" "${ck[@]}" --iterations 2
flip() { "$python" -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(60); b=f.read(1); f.seek(60); f.write(bytes([b[0]^0x21]))" "$1"; }
flip "$work/ck/state.ckpt"
check checkpoint_corrupt_falls_back ok "resuming from the previous checkpoint" -- "$t2d" "${t2d_common[@]}" "${ck[@]}" --iterations 6
flip "$work/ck/state.ckpt"
flip "$work/ck/state.ckpt.prev"
check checkpoint_both_corrupt error "cannot be read either" -- "$t2d" "${t2d_common[@]}" "${ck[@]}" --iterations 8
check checkpoint_is_a_directory error "ckdir.ckpt is a directory" -- "$t2d" "${t2d_common[@]}" --size 32 --denoiser tv --algorithm pgd \
  --iterations 2 --checkpoint ckdir.ckpt --checkpoint-every 1 --output-dir out_ckdir

echo "bad-input acceptance: $passed passed, $failed failed ($mode)"
((failed == 0))
