#!/usr/bin/env bash
# Runs every cargo-fuzz target of this folder under libFuzzer for FUZZ_SECONDS each (default
# 30), on the stable toolchain: the targets are built with the same coverage instrumentation
# cargo-fuzz uses (SanitizerCoverage, `--cfg fuzzing`, debug assertions) but without
# AddressSanitizer, which needs a nightly compiler (`cargo +nightly fuzz run <target>` adds
# it). The targets are safe Rust, so a panic, an overflow or a timeout is what there is to
# find, and libFuzzer reports each as a crash.
# The inputs it finds worth keeping accumulate in $FUZZ_CORPUS/<target> (outside the
# checkout), so repeated runs on one machine start where the last one stopped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${FUZZ_SECONDS:-30}"
target_dir="${CARGO_TARGET_DIR:-/var/tmp/portcullis-target}/fuzz"
corpus_root="${FUZZ_CORPUS:-/var/tmp/portcullis-fuzz-corpus}"

export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cdebug-assertions -Coverflow-checks"
# Optimised but quick to build: the targets run for seconds, not hours.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

targets=()
for file in "$here"/fuzz_targets/*.rs; do
    targets+=("$(basename "$file" .rs)")
done

# An explicit target keeps RUSTFLAGS off build scripts and proc-macros, as cargo-fuzz does.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --manifest-path "$here/Cargo.toml" --release --locked \
    --target "$host" --target-dir "$target_dir" --bins

failed=0
for target in "${targets[@]}"; do
    corpus="$corpus_root/$target"
    artifacts="$corpus_root/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    echo "--- fuzzing $target for ${seconds} s"
    # -rss_limit_mb: the key ring and parsers need little; a runaway allocation is a finding.
    if ! "$target_dir/$host/release/$target" "$corpus" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="$artifacts" -print_final_stats=1 2> "$corpus_root/$target.log"; then
        failed=1
        echo "$target: libFuzzer found a failing input (in $artifacts):"
        tail -n 40 "$corpus_root/$target.log"
    else
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$corpus_root/$target.log" | tail -n 2
    fi
done
exit "$failed"
