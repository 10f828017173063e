#!/usr/bin/env bash
# Fuzz the readers of untrusted files with libFuzzer (README, "Hostile input").
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (make fuzz FUZZ_SECONDS=600)
#
# Builds the package in Tests/Fuzz in release with -sanitize=fuzzer,address (fuzzer alone where the
# toolchain cannot add AddressSanitizer), then runs each target (default: all six) for SECONDS
# seconds on its committed seed corpus Tests/Fuzz/Corpus/<target>/. Inputs the fuzzer finds go to
# Tests/Fuzz/.build/corpus/<target>/ (kept between runs, never committed); a crash, a leak, a hang
# over 10 s or an allocation over 512 MiB is written to Tests/Fuzz/.build/artifacts/<target>/ and
# makes the script fail. Prints executions and findings per target.
set -euo pipefail
cd "$(dirname "$0")/../Tests/Fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzNpy FuzzNpz FuzzSafetensors FuzzTorch FuzzManifest FuzzSweepConfig)

# The toolchain leaves TemporaryDirectory.* folders in $TMPDIR; keep them under .build.
mkdir -p .build
export TMPDIR="$PWD/.build/tmp"
mkdir -p "$TMPDIR"

sanitizers=fuzzer,address
# lld for every link: GNU gold, the default linker on Linux, fails internally on sanitized objects,
# and the sanitizer flags reach every product of the build, the @MemberwiseInit compiler plugin
# (VLSAEMacros-tool) included.
build() {
    swift build -c release -Xswiftc "-sanitize=$1" -Xswiftc -use-ld=lld
}
if ! build "$sanitizers"; then
    echo "fuzz: building with AddressSanitizer failed; building with -sanitize=fuzzer alone" >&2
    sanitizers=fuzzer
    build "$sanitizers"
fi
bin="$(swift build -c release --show-bin-path)"

status=0
summary=""
for t in "${targets[@]}"; do
    corpus=".build/corpus/$t"
    artifacts=".build/artifacts/$t/"
    mkdir -p "$corpus" "$artifacts"
    log=".build/fuzz-$t.log"
    echo "fuzz: $t for ${seconds}s ($sanitizers)"
    set +e
    "$bin/$t" "$corpus" "Corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    found=$(find "$artifacts" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        status=1
        echo "fuzz: $t FAILED (exit $rc); see Tests/Fuzz/$log and Tests/Fuzz/$artifacts" >&2
        grep -E "ERROR|SUMMARY|Fatal|==[0-9]+==" "$log" | head -20 >&2 || true
    fi
    summary+="$(printf '%-16s %12s executions  %3d s  %s findings  (%s)' "$t" "${runs:-?}" "$seconds" "$found" "$sanitizers")"$'\n'
done
rm -rf "$TMPDIR"
printf '%s' "$summary"
exit $status
