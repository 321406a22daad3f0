#!/bin/sh
# Scores body extraction on the shared benchmark (../shared/extraction/, read where it lives)
# with its own scorer. usage: benches/extraction/score.sh [--candidates]
#   newsriver's extractor always; with --candidates also the other crates measured (dom_smoothie),
#   built apart in benches/extraction/candidates/.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
data="$root/../shared/extraction"
[ -d "$data" ] || { echo "SKIP extraction score: ../shared/extraction is missing (the team's shared data)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root"
cargo run -q --release --example extraction_bench -- "$data" "$out/newsriver.json"
files="$out/newsriver.json"
if [ "${1:-}" = "--candidates" ]; then
    CARGO_TARGET_DIR="$root/target/candidates" cargo run -q --release \
        --manifest-path benches/extraction/candidates/Cargo.toml -- "$data" "$out/dom_smoothie.json"
    files="$files $out/dom_smoothie.json"
fi
# shellcheck disable=SC2086
python3 "$data/score.py" $files
