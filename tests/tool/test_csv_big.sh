#!/bin/sh
# 10^7 rows (369 MB) through the seed job: every row comes out, the new column
# is exactly twice the old one (the sums agree bit for bit: doubling is exact
# and both sums add the same blocks in the same order), and peak memory stays
# within 64 MiB of the tool's own on a two-row file, whatever the file's size.
set -u
WEFT=$1
CSV_GEN=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
rss() { sed -n 's/.*"peak_rss_mib": \([0-9.]*\).*/\1/p' "$1"; }

printf 'id,old_column,label\n1,1.5,a\n' >"$work/tiny.csv"
"$WEFT" csv "$work/tiny.csv" --set "new_column = old_column * 2" -o "$work/tiny_out.csv" \
    --json >"$work/tiny.json" || fail "the two-row file"
"$CSV_GEN" 10000000 "$work/in.csv" || fail "generating 10^7 rows"
"$WEFT" csv "$work/in.csv" --set "new_column = old_column * 2" -o "$work/out.csv" \
    --sum old_column --sum new_column >"$work/sums.txt" || fail "the seed job on 10^7 rows"
"$WEFT" csv "$work/in.csv" --set "new_column = old_column * 2" -o "$work/out.csv" \
    --json >"$work/big.json" || fail "the seed job on 10^7 rows, --json"
lines=$(wc -l <"$work/out.csv")
[ "$lines" -eq 10000001 ] || fail "$lines lines out, want 10000001"
old=$(sed -n 's/^sum(old_column) = //p' "$work/sums.txt")
new=$(sed -n 's/^sum(new_column) = //p' "$work/sums.txt")
# Printed in their shortest form: compared as the doubles they read back to.
[ -n "$old" ] && awk -v s="$old" -v n="$new" 'BEGIN { exit !(2 * s == n + 0) }' ||
    fail "sum(new_column) = $new, not twice sum(old_column) = $old"
base=$(rss "$work/tiny.json")
big=$(rss "$work/big.json")
awk -v b="$base" -v g="$big" 'BEGIN { exit !(g <= b + 64) }' ||
    fail "peak RSS $big MiB on 10^7 rows, more than 64 MiB above the $base MiB of two rows"
echo "10^7 rows: $lines lines, sums agree, peak RSS $big MiB (two rows: $base MiB)"
