#!/bin/sh
# `mpirun -np N weft csv ...` against one process: the output file byte for
# byte, and what rank 0 prints (the reductions) line for line.
# Usage: tool_csv.sh MPIEXEC NP WEFT CSV_GEN DIR
set -eu
mpiexec=$1 np=$2 weft=$3 gen=$4 dir=$5
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
"$gen" 30000 in.csv >/dev/null
run() { # out, then the command's prefix
    out=$1
    shift
    "$@" "$weft" csv in.csv --set "new_column = old_column * 2" --sum id \
        --reduce "min: id * 3" --reduce "argmax: id % 977" -o "$out" >"$out.txt"
}
run one.csv
run many.csv "$mpiexec" -np "$np"
cmp one.csv many.csv
cmp one.csv.txt many.csv.txt
[ -s one.csv.txt ] # the reductions were printed, once
echo "np $np: output and reductions identical to one process"
# A dialect the ranks cannot split yet is refused on every rank, with no output.
if "$mpiexec" -np "$np" "$weft" csv in.csv --comment '#' -o refused.csv 2>err.txt; then
    echo "a dialect over ranks was not refused" >&2
    exit 1
fi
grep -q "not split over MPI ranks" err.txt
[ ! -e refused.csv ]
# A bad record in the last rank's part fails every rank: rank 0 says which
# rank failed and why, and no rank prints an empty message.
awk 'NR == 29000 { print "28998,abc,x"; next } { print }' in.csv >bad.csv
if "$mpiexec" -np "$np" "$weft" csv bad.csv --sum old_column -o bad_out.csv 2>bad_err.txt; then
    echo "a bad record over ranks was not refused" >&2
    exit 1
fi
grep -q "weft csv: rank [0-9]*: .*abc" bad_err.txt
if grep -qx "weft csv: " bad_err.txt; then
    echo "a rank printed an empty message" >&2
    exit 1
fi
[ ! -e bad_out.csv ]
