#!/usr/bin/env bash
# `make bench`: our benchmarks (the SwiftPM package in Benchmarks/, ordo-one/benchmark) and the dense
# PyTorch reference (Benchmarks/reference/torch_reference.py) on this machine, benchmark by benchmark
# back to back so that both sides see the same load, then a comparison table on stdout and
# Results/bench.json.
#
# Environment: VLSAE_BENCH_THREADS (2), VLSAE_BENCH_REPEAT (5 measured repeats after one warm-up, per
# round), VLSAE_BENCH_ROUNDS (2: ours then PyTorch, twice, samples pooled, so a burst of load on this
# shared machine lands on both sides),
# VLSAE_BENCH_ONLY (comma list of train_step,encode,zeroshot,load_f16,sgemm,gemm; gemm is ours alone:
# the deterministic GEMM on sgemm's product, shown beside OpenBLAS's GFLOP/s),
# VLSAE_BENCH_NPY (the 1M × 512 float16 file for load_f16; written once if missing), PYTHON (python3).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${VLSAE_BENCH_THREADS:-2}"
repeat="${VLSAE_BENCH_REPEAT:-5}"
rounds="${VLSAE_BENCH_ROUNDS:-2}"
only="${VLSAE_BENCH_ONLY:-sgemm,gemm,train_step,encode,zeroshot,load_f16}"
npy="${VLSAE_BENCH_NPY:-${TMPDIR:-/tmp}/vlsae-bench-1m-f16.npy}"
python="${PYTHON:-python3}"
swift="${SWIFT:-swift}"
results="$root/Results"
work="$(mktemp -d "${TMPDIR:-/tmp}/vlsae-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"

# The reference needs PyTorch 2.13.0 (CPU build) and numpy; install them only when missing.
if ! "$python" -c 'import sys, numpy, torch; sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)' 2>/dev/null; then
    echo "bench: PyTorch 2.13.0 (CPU) is not installed for $python; installing torch==2.13.0+cpu with pip for the reference ..."
    if ! "$python" -m pip install --quiet "torch==2.13.0+cpu" numpy; then
        echo "bench: could not install torch==2.13.0+cpu; install it (pip install torch==2.13.0+cpu) and rerun" >&2
        exit 1
    fi
fi

if [[ ",$only," == *",load_f16,"* && ! -f "$npy" ]]; then
    echo "bench: writing $npy (1,000,000 × 512 float16, 1 GB) once for load_f16"
    "$python" Benchmarks/reference/torch_reference.py --make-npy "$npy"
fi

echo "bench: building Benchmarks/ in release ..."
if ! "$swift" build -c release --package-path Benchmarks --product VLSAEBenchmarks >"$work/build.log" 2>&1; then
    grep -E "error:" "$work/build.log" >&2 || tail -n 30 "$work/build.log" >&2
    echo "bench: the benchmark build failed (rerun: $swift build -c release --package-path Benchmarks)" >&2
    exit 1
fi

export VLSAE_BENCH_THREADS="$threads" VLSAE_BENCH_REPEAT="$repeat" VLSAE_BENCH_NPY="$npy"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
: >"$work/torch.jsonl"
for name in ${only//,/ }; do
    for round in $(seq 1 "$rounds"); do
        echo "bench: $name (round $round of $rounds) — ours"
        out="$work/ours-$name-$round"
        mkdir -p "$out"
        "$swift" package --package-path Benchmarks --allow-writing-to-directory "$out" \
            benchmark --target VLSAEBenchmarks --filter "^$name\$" --format histogramSamples --path "$out" \
            --no-progress --quiet >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
        [[ "$name" == gemm ]] && continue  # no PyTorch counterpart: compared with our sgemm (OpenBLAS)
        echo "bench: $name (round $round of $rounds) — PyTorch"
        "$python" Benchmarks/reference/torch_reference.py --only "$name" --threads "$threads" --repeat "$repeat" \
            --npy "$npy" >>"$work/torch.jsonl"
    done
done

echo
"$python" Benchmarks/compare.py --ours "$work" --torch "$work/torch.jsonl" --json "$results/bench.json" --threads "$threads"
