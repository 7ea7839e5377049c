#!/bin/sh
# weft csv on the current device setup: exit codes, messages naming the file
# and line, atomic output, reductions, --json, and the differential test
# against Python's csv module (skipped without python3).
set -u
WEFT=$1
CSV_GEN=$2
DIR=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() { # expected-exit-code description command...
    want=$1
    what=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"
        cat "$work/out" "$work/err"
        fail=1
    fi
}
has() { # file pattern description
    grep -q "$2" "$1" || { echo "FAIL: $3: no \"$2\" in:"; cat "$1"; fail=1; }
}
printf 'id,old_column,label\n1,1.5,a\n2,0.25,"b,c"\n3,,"d""e"\n' >"$work/in.csv"
expect 0 "csv --help" "$WEFT" csv --help
expect 2 "csv without input" "$WEFT" csv
expect 2 "csv unknown option" "$WEFT" csv "$work/in.csv" --frobnicate 1
expect 2 "csv bad reduce" "$WEFT" csv "$work/in.csv" --reduce "median: id"
has "$work/err" "OP one of sum prod min max" "a bad reduction lists the operations"
many=""
for k in $(seq 65); do many="$many --sum id"; done
# shellcheck disable=SC2086
expect 2 "csv 65 reductions" "$WEFT" csv "$work/in.csv" $many
has "$work/err" "at most 64 reductions" "the 65th reduction is named as one too many"
# A column select leaves out is no column "drop" can find, but it exists
expect 3 "csv drop after select" "$WEFT" csv "$work/in.csv" --select id --drop label -o "$work/sd.csv"
has "$work/err" "not among the columns select keeps" "drop of a column select left out says so"
# Numbers out of range are refused, never wrapped or saturated.
expect 2 "csv int-missing past i64" "$WEFT" csv "$work/in.csv" --int-missing 99999999999999999999 \
    --set "z = id * 1"
expect 2 "csv negative window" "$WEFT" csv "$work/in.csv" --window -5 --set "z = id"
expect 2 "csv window past 64 bits" "$WEFT" csv "$work/in.csv" --window 99999999999999999999 \
    --set "z = id"
expect 2 "csv negative skip-rows" "$WEFT" csv "$work/in.csv" --skip-rows -1 --set "z = id"
expect 2 "bench prims --n -1" "$WEFT" bench prims --n -1
expect 2 "bench prims --n 5x" "$WEFT" bench prims --n 5x
expect 2 "bench csv --rows -1" "$WEFT" bench csv --rows -1
expect 3 "csv missing file" "$WEFT" csv "$work/none.csv" -o "$work/x.csv"
has "$work/err" "none.csv: cannot open" "missing file message"
expect 3 "csv closed stdin" sh -c '"$0" csv - --sum id <&-' "$WEFT"
has "$work/err" "standard input is closed" "closed stdin message"
# A run of blank lines longer than the window is passed over, not held: peak
# memory as for a file without it (20 MB of them held 360 MB).
rss() { sed -n 's/.*"peak_rss_mib": \([0-9.]*\).*/\1/p' "$1"; }
printf 'a,b\n1,2\n' >"$work/blanks.csv"
expect 0 "csv two rows" "$WEFT" csv "$work/blanks.csv" --set "c = a * 2" -o "$work/b1.csv" --json
cp "$work/out" "$work/tiny.json"
head -c 20000000 /dev/zero | tr '\0' '\n' >>"$work/blanks.csv"
printf '3,4\n' >>"$work/blanks.csv"
expect 0 "csv blank-line run" "$WEFT" csv "$work/blanks.csv" --set "c = a * 2" --window 64K \
    -o "$work/b2.csv" --json
printf 'a,b,c\n1,2,2\n3,4,6\n' | cmp -s - "$work/b2.csv" || { echo "FAIL: blank-line run output"; fail=1; }
awk -v b="$(rss "$work/tiny.json")" -v g="$(rss "$work/out")" 'BEGIN { exit !(g <= b + 16) }' ||
    { echo "FAIL: a blank-line run took $(rss "$work/out") MiB, two rows $(rss "$work/tiny.json")"; fail=1; }
# Errors of a reduction name it, and say what to do about an integer overflow.
printf 'a,b\n9223372036854775000,1\n9223372036854775000,2\n' >"$work/big.csv"
expect 3 "csv integer sum overflow" "$WEFT" csv "$work/big.csv" --sum b --reduce "sum: a"
has "$work/err" 'sum(a): integer sum overflows' "overflow names its reduction"
has "$work/err" '"sum: (a) \* 1.0", or type the column f64: --type a=f64' "overflow says what to do"
# No --type for a column the statements compute.
expect 3 "csv integer sum overflow, computed" "$WEFT" csv "$work/big.csv" --set "y = a" --reduce "sum: y"
grep -q -- "--type" "$work/err" && { echo "FAIL: a --type advised for a computed column"; fail=1; }
printf 'a,b\n' >"$work/header-only.csv"
expect 3 "csv min of no rows" "$WEFT" csv "$work/header-only.csv" --reduce "min: a"
has "$work/err" 'csv: min(a): the minimum of an empty array' "empty min names its reduction"
expect 0 "csv seed" "$WEFT" csv "$work/in.csv" --set "new_column = old_column * 2" \
    -o "$work/out.csv"
printf 'id,old_column,label,new_column\n1,1.5,a,3.0\n2,0.25,"b,c",0.5\n3,,"d""e",\n' >"$work/want.csv"
cmp -s "$work/out.csv" "$work/want.csv" || { echo "FAIL: seed output"; cat "$work/out.csv"; fail=1; }
expect 0 "csv reductions" "$WEFT" csv "$work/in.csv" --sum id --reduce "max: old_column" \
    --reduce "argmin: id * -1"
has "$work/out" "sum(id) = 6" "sum printed"
has "$work/out" "max(old_column) = nan" "max printed (NaN wins, as in weft_reduce)"
has "$work/out" "argmin(id \* -1) = -3 at row 2" "argmin printed"
expect 0 "csv json" "$WEFT" csv "$work/in.csv" --set "y = id + 1" --select y,label \
    -o "$work/sel.csv" --json --sum y
has "$work/out" '"mb_per_s":' "json throughput"
has "$work/out" '"peak_rss_mib":' "json rss"
has "$work/out" '"op": "sum", "expr": "y", "dtype": "i64", "value": 9' "json reduction"
printf 'y,label\n2,a\n3,"b,c"\n4,"d""e"\n' >"$work/want.csv"
cmp -s "$work/sel.csv" "$work/want.csv" || { echo "FAIL: select output"; cat "$work/sel.csv"; fail=1; }
# An empty item of --select/--drop names the column called "" (a header with a
# trailing delimiter makes one); it was skipped. Typed twice is an error.
printf 'a,b,\n1,2,5\n3,4,6\n' >"$work/empty.csv"
expect 0 "csv select the empty name" "$WEFT" csv "$work/empty.csv" --select ",a" -o "$work/e.csv"
printf ',a\n5,1\n6,3\n' >"$work/want.csv"
cmp -s "$work/e.csv" "$work/want.csv" || { echo "FAIL: select empty name"; cat "$work/e.csv"; fail=1; }
expect 3 "csv select a missing empty name" "$WEFT" csv "$work/in.csv" --select "id," -o "$work/e2.csv"
has "$work/err" 'no column named ""' "missing empty name"
expect 3 "csv column typed twice" "$WEFT" csv "$work/in.csv" --type "id=i64,id=f64" --sum id
has "$work/err" 'typed twice' "typed twice"
# A column whose name holds a comma (real headers: "Avg TP, $") is typed by
# its whole name, or backquoted, and selected or dropped backquoted.
printf 'Event,"Avg TP, $",x\nA,1,2\nB,2.5,3\n' >"$work/comma.csv"
expect 0 "csv type a name with a comma" "$WEFT" csv "$work/comma.csv" --type 'Avg TP, $=f64' \
    --sum '`Avg TP, $`'
has "$work/out" 'sum(`Avg TP, $`) = 3.5' "typed by its whole name"
expect 0 "csv type a backquoted name" "$WEFT" csv "$work/comma.csv" --type '`Avg TP, $`=i64,x=f64' \
    --sum x
expect 3 "csv integer type of a fractional column" "$WEFT" csv "$work/comma.csv" \
    --type '`Avg TP, $`=i64' --sum '`Avg TP, $`'
expect 0 "csv drop a backquoted name" "$WEFT" csv "$work/comma.csv" --drop '`Avg TP, $`' -o "$work/d.csv"
printf 'Event,x\nA,2\nB,3\n' >"$work/want.csv"
cmp -s "$work/d.csv" "$work/want.csv" || { echo "FAIL: drop a backquoted name"; cat "$work/d.csv"; fail=1; }
expect 0 "csv select a backquoted name" "$WEFT" csv "$work/comma.csv" --select 'x,`Avg TP, $`' \
    -o "$work/d.csv"
printf 'x,"Avg TP, $"\n2,1\n3,2.5\n' >"$work/want.csv"
cmp -s "$work/d.csv" "$work/want.csv" || { echo "FAIL: select a backquoted name"; cat "$work/d.csv"; fail=1; }
# A name holding a backquote: one --type takes it whole.
printf '`x,y\n1,2\n' >"$work/tick.csv"
expect 0 "csv type a name with a backquote" "$WEFT" csv "$work/tick.csv" --type '`x=f64' --sum '```x`'
has "$work/out" '= 1.0' "typed f64 by its whole name"
# A column named by an identifier of 64 characters or more, written bare.
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
printf '%s,b\n1,2\n3,4\n' "$long" >"$work/longname.csv"
expect 0 "csv a long column name bare" "$WEFT" csv "$work/longname.csv" --sum "$long * 2"
has "$work/out" "= 8" "a long column name bare"
# A reduction of a column the file lacks names it (it said "no array is bound").
expect 3 "csv sum of a missing column" "$WEFT" csv "$work/in.csv" --sum total
has "$work/err" 'sum(total): unknown name "total"' "missing column named"
expect 3 "csv reduction reading a missing column" "$WEFT" csv "$work/in.csv" --reduce "max: id * totl"
has "$work/err" 'max(id \* totl): unknown name "totl"' "missing column named beside a present one"
# One weft_map holds WEFT_MAX_ARRAYS (16) arrays: 16 columns run, 17 are refused.
for n in 16 17; do
    header="c1" row="1" sum="c1"
    i=2
    while [ $i -le $n ]; do
        header="$header,c$i" row="$row,$i" sum="$sum + c$i"
        i=$((i + 1))
    done
    printf '%s\n%s\n' "$header" "$row" >"$work/wide$n.csv"
done
expect 0 "csv 16 numeric columns" "$WEFT" csv "$work/wide16.csv" --set "c1 = $(echo c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 c11 c12 c13 c14 c15 c16 | sed 's/ / + /g')" \
    -o "$work/wide-out.csv"
has "$work/wide-out.csv" "^136,2,3" "16 numeric columns summed"
expect 3 "csv 17 numeric columns" "$WEFT" csv "$work/wide17.csv" --sum "$sum" --set "c1 = $sum"
has "$work/err" "17 numeric columns; at most 16" "17 numeric columns refused"
# Bad input: an error naming file, line and column; an existing output untouched.
printf 'x,s\n1,a\n2,b\nzz,c\n' >"$work/bad.csv"
echo precious >"$work/keep.csv"
expect 3 "csv malformed number" "$WEFT" csv "$work/bad.csv" --set "y = x * 2" -o "$work/keep.csv"
has "$work/err" "bad.csv:4:1: column 'x'" "malformed number message"
has "$work/keep.csv" "precious" "existing output untouched"
ls "$work" | grep -q tmp && { echo "FAIL: a temporary file was left"; ls "$work"; fail=1; }
printf 'x,s\n1,"a\n' >"$work/bad.csv"
expect 3 "csv unterminated quote" "$WEFT" csv "$work/bad.csv" --set "y = x" -o "$work/new.csv"
has "$work/err" "bad.csv:2:3: unterminated quoted field" "unterminated quote message"
[ -e "$work/new.csv" ] && { echo "FAIL: output written on failure"; fail=1; }
expect 3 "csv bad statement" "$WEFT" csv "$work/in.csv" --set "y = nope * 2" -o "$work/new.csv"
has "$work/err" "nope" "statement error names the name"
# Semicolons, no header, a tab delimiter.
printf '1\t2.5\n3\t4\n' >"$work/tab.csv"
expect 0 "csv tab no header" "$WEFT" csv "$work/tab.csv" --delimiter '\t' --no-header \
    --set "c3 = c1 + c2" -o "$work/tab_out.csv"
printf '1\t2.5\t3.5\n3\t4\t7.0\n' >"$work/want.csv"
cmp -s "$work/tab_out.csv" "$work/want.csv" || { echo "FAIL: tab output"; cat "$work/tab_out.csv"; fail=1; }
# Lines ending in a bare CR are records (issue 21.1).
printf 'a,b\r1,2\r3,4\r' >"$work/cr.csv"
expect 0 "csv CR line ends" "$WEFT" csv "$work/cr.csv" --set "c = a + b" -o "$work/cr_out.csv"
printf 'a,b,c\n1,2,3\n3,4,7\n' >"$work/want.csv"
cmp -s "$work/cr_out.csv" "$work/want.csv" || { echo "FAIL: CR output"; cat "$work/cr_out.csv"; fail=1; }
# --na-values: more fields read as missing (issue 24).
printf 'a,s\n-999,x\n2,n/d\nn/d,y\n' >"$work/na.csv"
expect 0 "csv na-values" "$WEFT" csv "$work/na.csv" --na-values -999,n/d --set "c = a * 2" \
    -o "$work/na_out.csv"
printf 'a,s,c\n-999,x,\n2,n/d,4.0\nn/d,y,\n' >"$work/want.csv"
cmp -s "$work/na_out.csv" "$work/want.csv" || { echo "FAIL: na-values output"; cat "$work/na_out.csv"; fail=1; }
expect 3 "csv na-values in an i64 column" "$WEFT" csv "$work/na.csv" --na-values n/d \
    --type a=i64 --set "c = a * 2" -o "$work/na_out.csv"
# More list options than the command keeps copies of: refused, never written past.
many=""
for _ in $(seq 400); do many="$many --na-values ,"; done
# shellcheck disable=SC2086 # one word per option
expect 2 "csv with 400 list options" "$WEFT" csv "$work/na.csv" $many -o "$work/many.csv"
# SIGTERM stops a run reading an idle FIFO, or waiting for its writer (issue 21.2).
mkfifo "$work/idle.fifo"
for writer in idle none; do
    holder=""
    if [ $writer = idle ]; then
        sleep 30 >"$work/idle.fifo" &
        holder=$!
    fi
    "$WEFT" csv "$work/idle.fifo" --set "y = a" -o "$work/idle_out.csv" 2>"$work/err" &
    pid=$!
    # Signal only once the handler is in place (a loaded machine starts
    # slowly: CI runs two tests at once beside the sanitizer builds).
    for _ in $(seq 1200); do
        mask=$(awk '/^SigCgt/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        [ $((0x${mask:-0} & 0x4000)) -ne 0 ] && break
        sleep 0.05
    done
    sleep 0.3
    kill -TERM $pid
    wait $pid
    got=$?
    [ -n "$holder" ] && kill $holder 2>/dev/null
    [ $got -eq 130 ] || { echo "FAIL: SIGTERM on an idle FIFO ($writer writer): exit $got"; fail=1; }
    has "$work/err" "interrupted by a signal" "interrupted message"
    [ -e "$work/idle_out.csv" ] && { echo "FAIL: output written after SIGTERM"; fail=1; }
done
# An integer past i64 in a column typed i64 is said to be one
printf 'x\n9223372036854775808\n' >"$work/big.csv"
expect 3 "csv integer past i64" "$WEFT" csv "$work/big.csv" --type x=i64 --sum x
has "$work/err" "past the i64 range" "csv integer past i64 named"
# Reductions in their shortest form, as the CSV's computed fields
printf 'x\n0.1\n0.2\n0.3\n' >"$work/short.csv"
expect 0 "csv shortest sum" "$WEFT" csv "$work/short.csv" --sum x --sum "x * 3"
has "$work/out" "^sum(x) = 0.6000000000000001$" "csv sum in shortest form"
# Python's layout for floats: a whole one keeps its .0 (an integer sum does
# not), and a NaN is nan whatever its sign (C wrote -nan)
printf 'a,b\n1,0\n3,0\n' >"$work/whole.csv"
expect 0 "csv float reductions" "$WEFT" csv "$work/whole.csv" --sum "a * 1.0" --sum a \
    --reduce "sum: b / (b * 1.0)"
has "$work/out" "^sum(a \* 1.0) = 4.0$" "a whole float sum keeps .0"
has "$work/out" "^sum(a) = 4$" "an integer sum has no .0"
has "$work/out" "^sum(b / (b \* 1.0)) = nan$" "a NaN prints as nan"
# Input -: standard input, as output - is standard output
printf 'x\n1\n2\n' | "$WEFT" csv - --sum x >"$work/out" 2>"$work/err" ||
    { echo "FAIL: csv - (stdin)"; cat "$work/err"; fail=1; }
has "$work/out" "sum(x) = 3" "csv - reads standard input"
# -o -: standard output holds the CSV alone; the figures go to standard error
expect 0 "csv to stdout with a sum" "$WEFT" csv "$work/in.csv" --set "z = id * 2" --sum id -o -
if grep -q "sum(" "$work/out" || ! grep -q "^sum(id) = 6" "$work/err"; then
    echo "FAIL: csv -o - with --sum: the sum is not on stderr alone"
    cat "$work/out" "$work/err"
    fail=1
fi
[ "$(wc -l <"$work/out")" -eq 4 ] || { echo "FAIL: csv -o - wrote $(wc -l <"$work/out") lines"; fail=1; }
expect 0 "csv to stdout with json" "$WEFT" csv "$work/in.csv" --set "z = id * 2" --sum id --json -o -
has "$work/err" '"reductions"' "csv -o - --json on stderr"
grep -q '"reductions"' "$work/out" && { echo "FAIL: csv -o - --json on stdout"; fail=1; }
expect 0 "bench csv" "$WEFT" bench csv --rows 5000 --repeat 1 --json
has "$work/out" '"pipeline_mb_per_s":' "bench csv json"
if command -v python3 >/dev/null 2>&1; then
    python3 "$DIR/csv_differential.py" "$WEFT" "$CSV_GEN" >"$work/diff.log" 2>&1 ||
        { echo "FAIL: differential test"; cat "$work/diff.log"; fail=1; }
else
    echo "python3 not found: the differential test is skipped"
fi
exit $fail
