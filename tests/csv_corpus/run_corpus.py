#!/usr/bin/env python3
"""weft csv against pandas on CSV files others wrote.

For every file of the corpus (the CSV datasets python3-statsmodels ships, and
distro-info's), pandas reads it with its defaults (floats correctly rounded:
float_precision="round_trip", as weft rounds) and weft csv rewrites every
column pandas reads as numbers in place (`x` = `x`), so each such field is
weft's parse, formatted. pandas then reads weft's output back; the frames must
be equal: the same columns, dtypes and values, NaN at the same places, and
every other column byte for byte what it was. The same output converted to
another dialect (--out-delimiter ';' --quoting all --crlf) must read back equal
too.

A file where they differ is a failure unless expected.txt names it with the
kind of difference, the weft csv options that make weft agree with pandas
(then checked too), and why; an expectation that no longer happens fails
too, so the list stays true. Exit 77 (skipped) without pandas or the corpus.
"""
import csv
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = [
    "/usr/lib/python3/dist-packages/statsmodels/datasets/*/*.csv",
    "/usr/share/distro-info/*.csv",
]
MAX_COLUMNS = 16  # weft csv takes at most 16 numeric columns per run (docs/csv.md)


def load_expected():
    expected = {}
    with open(os.path.join(HERE, "expected.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, kind, options, _why = (part.strip() for part in line.split("|", 3))
            expected[name] = (kind, options.split())
    return expected


def quoted(name):
    return "`" + name.replace("`", "``") + "`"


def compare(pd, weft, path, work, options=()):
    """The kind of difference between weft and pandas on path, or None."""
    try:
        df = pd.read_csv(path, float_precision="round_trip")
    except Exception as e:  # pandas refuses it: weft must refuse it too
        df = None
        pandas_error = str(e).splitlines()[0]
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f), [])
    statements = []
    if df is not None:
        numeric = [i for i, t in enumerate(df.dtypes) if t.kind in "if"][:MAX_COLUMNS]
        statements = ["%s = %s" % (quoted(header[i]), quoted(header[i])) for i in numeric]
    out = os.path.join(work, "out.csv")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [weft, "csv", path, "-o", out] + list(options)
    if statements:
        cmd += ["--set", "; ".join(statements)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if df is None:
        if run.returncode == 0:
            return "pandas-refuses: " + pandas_error
        return None
    if run.returncode != 0:
        if os.path.exists(out):
            return "partial-output"
        lines = run.stderr.strip().splitlines() or ["exit %d, no message" % run.returncode]
        return "weft-refuses: " + lines[-1]
    back = pd.read_csv(out, float_precision="round_trip")
    try:
        pd.testing.assert_frame_equal(back, df, check_exact=True)
    except AssertionError as e:
        return "values-differ: " + " ".join(str(e).split())[:300]
    # Converted to another dialect, it still reads back the same.
    run = subprocess.run(cmd + ["--out-delimiter", ";", "--quoting", "all", "--crlf"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return "dialect-refused: " + run.stderr.strip()
    back = pd.read_csv(out, sep=";", float_precision="round_trip")
    try:
        pd.testing.assert_frame_equal(back, df, check_exact=True)
    except AssertionError as e:
        return "dialect-differs: " + " ".join(str(e).split())[:300]
    return None


def main():
    weft = sys.argv[1]
    try:
        import pandas as pd
    except ImportError:
        print("pandas is not installed (python3-pandas): skipped")
        return 77
    files = sorted(f for pattern in CORPUS for f in glob.glob(pattern))
    if len(files) < 30:
        print("the corpus has %d files (install python3-statsmodels): skipped" % len(files))
        return 77
    expected = load_expected()
    failures = 0
    seen = set()
    with tempfile.TemporaryDirectory() as work:
        for path in files:
            name = os.path.relpath(path, "/usr")
            seen.add(name)
            got = compare(pd, weft, path, work)
            kind = got.split(":", 1)[0] if got else None
            want, options = expected.get(name, (None, []))
            if kind == want and options:
                # The documented option must make weft read it as pandas does.
                got = compare(pd, weft, path, work, options)
                if got:
                    failures += 1
                    print("FAIL %s with %s: %s" % (name, " ".join(options), got))
                    continue
            if kind == want:
                print("ok   %s%s" % (name, " (expected: %s; agrees with %s)" % (want, " ".join(options)) if want else ""))
                continue
            failures += 1
            if got:
                print("FAIL %s: %s" % (name, got))
            else:
                print("FAIL %s: expected.txt says %s, but weft and pandas agree" % (name, want))
    for name in sorted(set(expected) - seen):
        print("FAIL %s: in expected.txt but not in the corpus" % name)
        failures += 1
    print("%d files, %d failures" % (len(files), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
