#!/usr/bin/env bash
# Seeds corpus/parse_normalize/ with every feed fixture of the main crate, flattened and named
# by content SHA-1 (libFuzzer's own naming), so re-running is idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/corpus/parse_normalize"
mkdir -p "$out"
n=0
for dir in "$root/tests/fixtures/feeds" "$root/tests/fixtures/corpus"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do
        case "$(basename "$f")" in
            README* | LICENSE* | NOTICE* | COPYING* | AUTHORS* | MANIFEST* | *.md | *.tsv) continue ;;
        esac
        sum="$(sha1sum "$f" | cut -d' ' -f1)"
        cp "$f" "$out/$sum"
        n=$((n + 1))
    done < <(find "$dir" -type f -print0)
done
# crashes/*.bin are regression inputs, not seeds: a seed that crashes stops a plain run at start.
echo "seeded $n files; corpus/parse_normalize now holds $(find "$out" -type f | wc -l)"
