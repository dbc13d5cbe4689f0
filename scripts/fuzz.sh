#!/usr/bin/env bash
# Builds the fuzz targets (cargo-fuzz, nightly, AddressSanitizer, debug assertions and
# overflow checks on) and runs each for a set time over its seed corpus; reports the
# executions done and the findings (new files in fuzz/artifacts/<target>/) per target,
# and exits non-zero on any finding.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    default: 60 s, every target
#   scripts/fuzz.sh 10                                 the CI smoke
#
# Environment: FUZZ_NO_SEED=1 keeps fuzz/corpus as it is (no reseeding);
# CARGO_TARGET_DIR applies to the stable build of the seeding only (the fuzz build
# always uses fuzz/target);
# FUZZ_NICE (default 19) is the niceness of the build and the runs;
# FUZZ_RUNS=N stops a target after N executions (the seconds then cap it);
# FUZZ_JOBS=N runs N processes of each target at once on its one corpus directory
# (libFuzzer reloads it, so each sees what the others find; the executions reported
# are their sum): one per core for a long run, plainly rather than libFuzzer's
# `-fork`, whose jobs rerun the corpus each time (BENCHMARKS.md, stop 29); FUZZ_RUNS
# then counts per process;
# FUZZ_SMOKE=1 builds without a sanitizer in the dev profile (a quick build for CI's
# smoke; findings are then panics, overflows and allocation caps, not memory errors);
# FUZZ_BUILD_ONLY=1 builds the targets and stops (no seeding, no runs: the test
# command starts the build early, beside others);
# FUZZ_FOCUSED=1 builds without a sanitizer in fuzz/Cargo.toml's `fuzzcov` profile,
# coverage counters only in datagate and its file-format crates (for long runs of
# `reader`: libFuzzer scans fewer counters after each input).
# The seeds come from scripts/fuzz-seed.sh (fixtures written by `datagate
# make-fixtures`; typical queries). A finding reproduces with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> fuzz/artifacts/<target>/<file>
# and becomes a unit test beside the parser (docs/fuzzing.md).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
shift || true
all=(dap2_ce dap4_ce edr_params edr_wkt wms_params stac_search config reader)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
nice_n=${FUZZ_NICE:-19}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz)" >&2
    exit 2
fi

start=$(date +%s)
if [ "${FUZZ_NO_SEED:-0}" != 1 ] && [ "${FUZZ_BUILD_ONLY:-0}" != 1 ]; then
    echo "== seeding fuzz/corpus"
    scripts/fuzz-seed.sh || exit 2
fi

echo "== building the fuzz targets (nightly)"
# All targets in one build (they share every dependency).
# The fuzz crate keeps its own fuzz/target (a CARGO_TARGET_DIR meant for the stable
# build would put a second, sanitized copy of every dependency there).
build_flags=()
profile_dir=release
if [ "${FUZZ_SMOKE:-0}" = 1 ]; then
    build_flags=(--dev --sanitizer none)
    profile_dir=debug
fi
build=(cargo +nightly fuzz build "${build_flags[@]}")
target_root=$root/fuzz/target
if [ "${FUZZ_FOCUSED:-0}" = 1 ]; then
    # Plain cargo: cargo-fuzz would instrument every crate through RUSTFLAGS.
    target_root=$root/fuzz/target-cov
    build=(env CARGO_TARGET_DIR="$target_root" cargo +nightly build
        --manifest-path "$root/fuzz/Cargo.toml" --profile fuzzcov --bins
        --target x86_64-unknown-linux-gnu)
    profile_dir=fuzzcov
fi
if ! nice -n "$nice_n" env -u CARGO_TARGET_DIR "${build[@]}" >"$root/fuzz/build.log" 2>&1; then
    tail -n 30 "$root/fuzz/build.log"
    echo "fuzz.sh: the build failed" >&2
    exit 2
fi
built=$(date +%s)
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
    echo "fuzz.sh: built in $((built - start)) s"
    exit 0
fi
bin_dir=$target_root/x86_64-unknown-linux-gnu/$profile_dir

# Per target: libFuzzer options. Every target gets a memory cap (a damaged file or a
# hostile query must not allocate without bound) and a per-input timeout.
common=(-max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048
    -malloc_limit_mb=1024 -timeout=25 -detect_leaks=0)
# The CI smoke is reproducible: the same seeds, the same mutations.
[ "${FUZZ_SMOKE:-0}" = 1 ] && common+=(-seed=1)
[ -n "${FUZZ_RUNS:-}" ] && common+=(-runs="$FUZZ_RUNS")

# Scratch files (fixtures, `reader`'s file-cache copies for netCDF-C) on tmpfs where
# there is one. Without a
# sanitizer, glibc's allocator returned every large buffer to the kernel and took
# fresh zeroed pages on the next input: kept instead (+20 % executions for `reader`).
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
export MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864

status=0
summary=()
jobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log=$root/fuzz/artifacts/$t.log
    before=$(ls "fuzz/artifacts/$t" | sort)
    dict=()
    [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
    pids=()
    for j in $(seq 1 "$jobs"); do
        jlog=$log
        [ "$j" -gt 1 ] && jlog=$root/fuzz/artifacts/$t.$j.log
        nice -n "$nice_n" "$bin_dir/$t" "${common[@]}" "${dict[@]}" \
            -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" >"$jlog" 2>&1 &
        pids+=($!)
    done
    rc=0
    for pid in "${pids[@]}"; do
        wait "$pid" || rc=$?
    done
    execs=0
    for j in $(seq 1 "$jobs"); do
        jlog=$log
        [ "$j" -gt 1 ] && jlog=$root/fuzz/artifacts/$t.$j.log
        n=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$jlog" | tail -n 1 | grep -o '[0-9]*$')
        [ -z "$n" ] && n=$(grep -a -o '^#[0-9]* *DONE' "$jlog" | tail -n 1 | grep -o '[0-9]*')
        execs=$((execs + ${n:-0}))
    done
    new=$(comm -13 <(echo "$before") <(ls "fuzz/artifacts/$t" | sort) | grep -v '^slow-unit-' | grep -v '^$')
    findings=$(printf '%s' "$new" | grep -c . || true)
    line=$(printf '%-12s %10s executions  %s findings' "$t" "${execs:-?}" "$findings")
    if [ "$findings" -gt 0 ] || [ "$rc" -ne 0 ]; then
        status=1
        line="$line  (libFuzzer exit $rc; log: fuzz/artifacts/$t.log)"
        for f in $new; do line="$line"$'\n'"             fuzz/artifacts/$t/$f"; done
        why=$(cat "$log" "$root/fuzz/artifacts/$t".[0-9]*.log 2>/dev/null |
            grep -m 2 -A1 -E '^thread .* panicked|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)')
        [ -n "$why" ] && line="$line"$'\n'"$(sed 's/^/             /' <<<"$why")"
    fi
    echo "$line"
    summary+=("$line")
done

end=$(date +%s)
echo "== summary (${seconds} s per target; build $((built - start)) s, total $((end - start)) s)"
printf '%s\n' "${summary[@]}"
exit $status
