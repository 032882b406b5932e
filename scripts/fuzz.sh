#!/usr/bin/env bash
# Fuzzes the readers of untrusted files with libFuzzer (clang, with ASan + UBSan): the IDX/gzip
# reader, the CIFAR-10 reader, the run-record JSON readers, the checkpoint/weights loaders and
# the GUI's session reader (Qt JSON; built when Qt 6 Core is installed).
#
#   scripts/fuzz.sh [MINUTES] [TARGET ...]     default: 10 minutes each; idx cifar records checkpoint session
#
# Builds into build-san/ (as scripts/test.sh --sanitize does), starts each target from its seed
# corpus in tests/fuzz/corpus/<target>, keeps what it finds in build-san/fuzz/<target>/ and
# writes crashes/timeouts/OOMs as build-san/fuzz/<target>-crash-*, -timeout-*, -oom-*.
# Two targets run at a time (one per core). Prints one summary line per target and exits 1 if
# any found a problem. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(idx cifar records checkpoint session)
build=${SCALELAB_BUILD_DIR:-build-san}

scripts/setup.sh --sanitize
CXX=clang++ SCALELAB_BUILD_DIR=$build scripts/build.sh -DSCALELAB_BUILD_GUI=OFF \
    -DSCALELAB_SANITIZE=ON -DSCALELAB_FUZZ=ON >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
    local t=$1 dir=$build/fuzz/$1
    mkdir -p "$dir"
    local maxlen=4096
    [[ $t == checkpoint ]] && maxlen=1000000
    [[ $t == session ]] && maxlen=16384
    # -rss_limit_mb: ASan roughly doubles LibTorch's ~0.3 GB baseline; a real blow-up is far above.
    "$build/bin/fuzz_$t" "$dir" "tests/fuzz/corpus/$t" -max_total_time=$((minutes * 60)) \
        -rss_limit_mb=2048 -timeout=20 -max_len=$maxlen -print_final_stats=1 \
        -artifact_prefix="$build/fuzz/$t-" >"$build/fuzz/$t.log" 2>&1
}

status=0
pids=()
names=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    if [[ ${#pids[@]} -ge 2 ]]; then
        wait "${pids[0]}" || true
        pids=("${pids[@]:1}")
    fi
done
wait || true

for t in "${targets[@]}"; do
    log=$build/fuzz/$t.log
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    findings=$(find "$build/fuzz" -maxdepth 1 -name "$t-crash-*" -o -name "$t-timeout-*" \
        -o -name "$t-oom-*" -o -name "$t-leak-*" | wc -l)
    corpus=$(ls "$build/fuzz/$t" | wc -l)
    echo "fuzz_$t: ${minutes} min, ${runs:-?} runs, ${cov:-cov: ?}, corpus ${corpus}, findings ${findings}"
    if [[ $findings -gt 0 ]]; then
        status=1
        grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | sed 's/^/    /' || true
    fi
done
exit $status
