"""Two weft builds on the seed CSV job in alternated rounds (ABBA), for a
change too small to see through a shared machine's noise in a few runs.

    python3 bench/csv_ab.py FILE NEW/weft OLD/weft [--rounds 15]

Each round runs both builds once, in alternating order; prints the medians
of wall time (weft csv --json's seconds), of CPU time (user + sys from
wait4) and of the per-round ratio new / old, and how many rounds new won.
An OLD build from another tree may need LD_LIBRARY_PATH: pass a wrapper
script that sets it and execs the binary.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile


def run(weft, file, out):
    p = subprocess.Popen([weft, 'csv', file, '--set', 'new_column = old_column * 2', '-o', out,
                          '--json'], stdout=subprocess.PIPE)
    stdout = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.stdout.close()
    if status != 0:
        raise SystemExit('%s failed (%d)' % (weft, status))
    return json.loads(stdout)['seconds'], ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('new')
    ap.add_argument('old')
    ap.add_argument('--rounds', type=int, default=15)
    a = ap.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix='csv-ab-'), 'out.csv')
    res = {'new': [], 'old': []}
    ratios = []
    for r in range(a.rounds):
        order = ('new', 'old') if r % 2 == 0 else ('old', 'new')
        got = {k: run(getattr(a, k), a.file, out) for k in order}
        for k in order:
            res[k].append(got[k])
        ratios.append(got['new'][0] / got['old'][0])
    os.unlink(out)
    for k in ('new', 'old'):
        wall = statistics.median(w for w, _ in res[k])
        cpu = statistics.median(c for _, c in res[k])
        print('%s: wall median %.2f s (min %.2f), cpu median %.2f s, %d runs' %
              (k, wall, min(w for w, _ in res[k]), cpu, len(res[k])))
    print('new / old per round: median %.3f, new faster in %d of %d' %
          (statistics.median(ratios), sum(x < 1 for x in ratios), len(ratios)))


if __name__ == '__main__':
    main()
