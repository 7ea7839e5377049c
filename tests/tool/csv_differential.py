#!/usr/bin/env python3
"""weft csv against Python's csv module on generated files.

Random files (quoted fields holding delimiters, quotes, newlines and
non-ASCII text; CRLF or LF; missing values) are written with csv.writer, then
`weft csv FILE --set "y = x * 2" -o OUT` must give exactly what Python gives:
the rows as csv.writer writes them, plus repr(float(x) * 2) (an empty field for
a missing x), as pandas' to_csv would. When pandas is installed, the seed
pipeline's output is also compared with pandas' own to_csv. Exit 77: skipped.
"""
import csv
import io
import os
import random
import subprocess
import sys
import tempfile

weft, csv_gen = sys.argv[1], sys.argv[2]
rng = random.Random(1234)
ALPHABET = ['a', 'b', ',', '"', '\n', ' ', 'é', '€', ';', '\r\n', 'z', '1']


def text():
    return ''.join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


def number():
    if rng.random() < 0.05:
        return ''
    v = rng.uniform(-1, 1) * 10 ** rng.randint(-8, 20)
    return repr(v) if rng.random() < 0.8 else '%.6g' % v


def expected(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator='\n')
    w.writerow(['s', 'x', 't', 'y'])
    for s, x, t in rows:
        w.writerow([s, x, t, repr(float(x) * 2) if x else ''])
    return out.getvalue().encode()


def check(path, window, want):
    out = path + '.out'
    r = subprocess.run([weft, 'csv', path, '--set', 'y = x * 2', '--type', 'x=f64',
                        '--window', str(window), '-o', out], capture_output=True)
    if r.returncode != 0:
        sys.exit('weft csv failed on %s: %s' % (path, r.stderr.decode()))
    got = open(out, 'rb').read()
    if got != want:
        at = next(i for i in range(min(len(got), len(want)) + 1)
                  if i >= min(len(got), len(want)) or got[i] != want[i])
        sys.exit('%s (window %d): differs from Python at byte %d:\n got  %r\n want %r' %
                 (path, window, at, got[at - 40:at + 40], want[at - 40:at + 40]))


with tempfile.TemporaryDirectory() as d:
    for case in range(12):
        rows = [(text(), number(), text()) for _ in range(rng.choice([0, 1, 7, 300, 3000]))]
        path = os.path.join(d, 'f%d.csv' % case)
        with open(path, 'w', newline='', encoding='utf-8') as f:
            w = csv.writer(f, lineterminator=rng.choice(['\n', '\r\n']))
            w.writerow(['s', 'x', 't'])
            w.writerows(rows)
        for window in (64, 1000, 4 << 20):
            check(path, window, expected(rows))
    # The seed pipeline against pandas itself, when it is there.
    try:
        import pandas as pd
    except ImportError:
        print('pandas not installed: the pandas comparison is skipped')
        sys.exit(0)
    seed = os.path.join(d, 'seed.csv')
    subprocess.run([csv_gen, '50000', seed], check=True)
    df = pd.read_csv(seed)
    df['new_column'] = df['old_column'] * 2
    want = os.path.join(d, 'pandas.csv')
    df.to_csv(want, index=False)
    got = os.path.join(d, 'weft.csv')
    subprocess.run([weft, 'csv', seed, '--set', 'new_column = old_column * 2', '-o', got],
                   check=True)
    if open(got, 'rb').read() != open(want, 'rb').read():
        sys.exit('the seed pipeline differs from pandas to_csv')
print('ok')
