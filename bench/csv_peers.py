#!/usr/bin/env python3
"""The seed pipeline (read_csv -> new_column = old_column * 2 -> to_csv) with
weft and its Python peers on the same file, in the same run, interleaved.

    python3 bench/csv_peers.py FILE [--weft build/weft] [--repeat 3] [--only a,b]
                               [--weft-before OLD_BUILD/weft]

Each tool runs in its own process under /usr/bin/time, so the peak RSS is
that process's (for the Python peers it includes the interpreter and the
library: `baseline` rows give what importing alone costs). Prints the median
wall time, MB/s of input, and peak RSS per tool, then parsing alone (read the
file and sum old_column) and formatting alone (write an in-memory frame, or
weft's format stage), each against the fastest single-purpose tool
installed. Peers that are not installed are skipped. --weft-before runs a
second weft build in the same rounds (pipeline/weft-before), so a change is
measured against the build before it under the same load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PIPELINES = {
    'polars-streaming': "import polars as pl\n"
    "pl.scan_csv(IN).with_columns((pl.col('old_column') * 2).alias('new_column'))"
    ".sink_csv(OUT)",
    'polars-eager': "import polars as pl\n"
    "df = pl.read_csv(IN)\n"
    "df.with_columns((pl.col('old_column') * 2).alias('new_column')).write_csv(OUT)",
    'duckdb': "import duckdb\n"
    "duckdb.sql(f\"COPY (SELECT *, old_column * 2 AS new_column FROM read_csv('{IN}')) "
    "TO '{OUT}' (HEADER)\")",
    'pandas': "import pandas as pd\n"
    "df = pd.read_csv(IN)\ndf['new_column'] = df['old_column'] * 2\n"
    "df.to_csv(OUT, index=False)",
    'dask': "import dask.dataframe as dd\n"
    "df = dd.read_csv(IN)\ndf['new_column'] = df['old_column'] * 2\n"
    "df.to_csv(OUT, index=False, single_file=True)",
}
PARSE = {
    'polars': "import polars as pl\n"
    "print(pl.scan_csv(IN).select(pl.col('old_column').sum()).collect().item())",
    'duckdb': "import duckdb\n"
    "print(duckdb.sql(f\"SELECT sum(old_column) FROM read_csv('{IN}')\").fetchall())",
    'pyarrow': "import pyarrow.csv as pc, pyarrow.compute as pa\n"
    "print(pa.sum(pc.read_csv(IN).column('old_column')))",
}
# Formatting alone: the frame is read first, untimed; the script prints the
# seconds of the write only.
FORMAT = {
    'polars': "import polars as pl, time\n"
    "df = pl.read_csv(IN).with_columns((pl.col('old_column') * 2).alias('new_column'))\n"
    "t = time.perf_counter(); df.write_csv(OUT); print('FORMAT', time.perf_counter() - t)",
    'pyarrow': "import pyarrow.csv as pc, pyarrow.compute as pa, time\n"
    "t0 = pc.read_csv(IN)\n"
    "tb = t0.append_column('new_column', pa.multiply(t0.column('old_column'), 2))\n"
    "t = time.perf_counter(); pc.write_csv(tb, OUT); print('FORMAT', time.perf_counter() - t)",
}
BASELINE = {'polars': 'import polars', 'duckdb': 'import duckdb', 'pandas': 'import pandas',
            'dask': 'import dask.dataframe'}


def timed(cmd):
    """(wall seconds, peak RSS MiB, stdout) of one run under /usr/bin/time."""
    r = subprocess.run(['/usr/bin/time', '-f', 'TIME %e %M'] + cmd, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(cmd[:3]), r.stderr[-400:]))
    line = [x for x in r.stderr.splitlines() if x.startswith('TIME ')][-1].split()
    return float(line[1]), int(line[2]) / 1024.0, r.stdout


def python_cmd(code, src, out):
    return [sys.executable, '-c', 'IN = %r\nOUT = %r\n%s' % (src, out, code)]


def available(module):
    return subprocess.run([sys.executable, '-c', 'import ' + module],
                          capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--weft', default='build/weft')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--dask-repeat', type=int, default=1)
    ap.add_argument('--only', default='')
    ap.add_argument('--weft-before', default='')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    mb = os.path.getsize(a.file) / 1e6
    only = set(a.only.split(',')) if a.only else None
    tmp = tempfile.mkdtemp(prefix='csv-peers-')
    out = os.path.join(tmp, 'out.csv')
    runs = {}

    def add(name, cmd, repeat=None):
        for _ in range(repeat or a.repeat):
            try:
                wall, rss, stdout = timed(cmd)
            except RuntimeError as e:
                print('  %s: %s' % (name, e), file=sys.stderr)
                return
            runs.setdefault(name, []).append((wall, rss, stdout))

    seed = '--set', 'new_column = old_column * 2'
    tools = ['weft'] + [t for t in PIPELINES if available(t.split('-')[0])]
    if only:
        tools = [t for t in tools if t in only]
    # Interleaved rounds: every tool sees the same noise.
    for rnd in range(a.repeat):
        for t in tools:
            if t == 'weft':
                add('pipeline/weft', [a.weft, 'csv', a.file, *seed, '-o', out, '--json'], 1)
                if a.weft_before:
                    add('pipeline/weft-before',
                        [a.weft_before, 'csv', a.file, *seed, '-o', out, '--json'], 1)
            elif t != 'dask' or rnd < a.dask_repeat:
                add('pipeline/' + t, python_cmd(PIPELINES[t], a.file, out), 1)
        add('parse/weft', [a.weft, 'csv', a.file, '--sum', 'old_column', '--json'], 1)
        for t, code in PARSE.items():
            if available(t) and (not only or t in only or 'parse' in only):
                add('parse/' + t, python_cmd(code, a.file, out), 1)
        for t, code in FORMAT.items():
            if available(t) and (not only or t in only or 'format' in only):
                add('format/' + t, python_cmd(code, a.file, out), 1)
    for t, code in BASELINE.items():
        if available(t):
            add('baseline/' + t, [sys.executable, '-c', code], 1)
    tiny = os.path.join(tmp, 'tiny.csv')
    with open(tiny, 'w') as f:
        f.write('id,old_column,label\n1,1.5,a\n')
    add('baseline/weft', [a.weft, 'csv', tiny, *seed, '-o', out], 1)
    rows = []
    for name, rs in runs.items():
        wall = statistics.median(r[0] for r in rs)
        rss = statistics.median(r[1] for r in rs)
        if name.startswith('format/'):
            wall = statistics.median(
                float(r[2].split('FORMAT')[1].split()[0]) for r in rs)
        rows.append({'name': name, 'runs': len(rs), 'seconds': wall,
                     'mb_per_s': mb / wall if wall > 0 else 0, 'peak_rss_mib': rss})
        if name == 'pipeline/weft':
            figs = [json.loads(r[2]) for r in rs]
            for stage in ('scan', 'parse', 'compute', 'format', 'wait_writer'):
                sec = statistics.median(f['stages_s'][stage] for f in figs)
                rows.append({'name': '  weft stage %s' % stage, 'runs': len(rs),
                             'seconds': sec, 'mb_per_s': mb / sec if sec > 0 else 0,
                             'peak_rss_mib': rss})
    if a.json:
        print(json.dumps({'file': a.file, 'mb': mb, 'results': rows}, indent=1))
        return
    print('%s: %.0f MB, medians of %d interleaved runs (dask: %d)' % (a.file, mb, a.repeat,
                                                                      a.dask_repeat))
    print('%-46s %9s %9s %12s' % ('tool', 'seconds', 'MB/s', 'peak RSS MiB'))
    for r in rows:
        print('%-46s %9.2f %9.1f %12.0f' % (r['name'], r['seconds'], r['mb_per_s'],
                                            r['peak_rss_mib']))
    w = next((r for r in rows if r['name'] == 'pipeline/weft'), None)
    for r in rows:
        if w and r['name'].startswith('pipeline/') and r is not w and r['seconds'] > 0:
            print('weft / %s: %.2fx' % (r['name'][9:], r['seconds'] / w['seconds']))


if __name__ == '__main__':
    main()
