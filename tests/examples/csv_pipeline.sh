#!/bin/sh
# examples/csv_pipeline.c on integer and float columns: its sum must be the
# column's (an i64 sum was printed as the bits of a double, 5.9e-322).
set -eu
EXAMPLE=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
printf 'old_column,label\n10,a\n20,b\n30,c\n' > "$d/ints.csv"
printf 'old_column,label\n10.5,a\n20,b\n' > "$d/floats.csv"
"$EXAMPLE" "$d/ints.csv" "$d/out.csv" > "$d/ints.txt"
grep -q "sum of new_column = 120$" "$d/ints.txt" || { cat "$d/ints.txt"; exit 1; }
"$EXAMPLE" "$d/floats.csv" "$d/out.csv" > "$d/floats.txt"
grep -q "sum of new_column = 61$" "$d/floats.txt" || { cat "$d/floats.txt"; exit 1; }
