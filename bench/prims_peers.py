# The peers of `weft bench prims` in the same run: numpy 2 (sort, argsort,
# histogram, bincount, add.at, random, filter, cumsum) and Polars
# (group_by().sum()), beside weft's own rows (the C bench's --json), on data
# of the same sizes and distributions. Needs numpy (and polars) from PyPI in
# a throwaway venv; CI does not run it (bench/RESULTS.md, "Peers"):
#   python3 -m venv /tmp/peers && env -u OPENBLAS_CORETYPE /tmp/peers/bin/pip install numpy polars
#   env -u OPENBLAS_CORETYPE /tmp/peers/bin/python bench/prims_peers.py build [N] [RUNS] [ONLY]
# (ONLY: the rows whose name holds it, as `weft bench prims --only`)
import json, subprocess, sys, time
import numpy as np

try:
    import polars as pl
except ImportError:
    pl = None

build = sys.argv[1] if len(sys.argv) > 1 else "build"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 24
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
only = ["--only", sys.argv[4]] if len(sys.argv) > 4 else []
rows = 10_000_000

rng = np.random.default_rng(1)
x = (rng.random(n, dtype=np.float32) * 2 - 1).astype(np.float32)
keys = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
keys64 = rng.integers(0, 1 << 63, n, dtype=np.uint64) * 2 + 1
idx = rng.integers(0, 1000, n).astype(np.uint32)
v = rng.random(n, dtype=np.float32)
gk = rng.integers(0, 1000, rows).astype(np.uint32)
gv = rng.random(rows, dtype=np.float32)


def med(f):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    t.sort()
    return t[len(t) // 2] * 1e3


def pairs():
    order = np.argsort(keys, kind="stable")
    return keys[order], idx[order]


def add_at():
    out = np.zeros(1000, np.float32)
    np.add.at(out, idx, v)


peers = {  # weft bench prims row -> (peer, its call)
    "sort u32": ("np.sort", lambda: np.sort(keys)),
    "sort f32": ("np.sort", lambda: np.sort(x)),
    "sort u64": ("np.sort", lambda: np.sort(keys64)),
    "sort u32 + u32 values": ("np.argsort(stable) + 2 gathers", pairs),
    "argsort u32": ("np.argsort", lambda: np.argsort(keys)),
    "histogram 256 bins f32": ("np.histogram", lambda: np.histogram(x, 256, (-1, 1))),
    "histogram 65536 bins f32": ("np.histogram", lambda: np.histogram(x, 65536, (-1, 1))),
    "bincount 1000 u32": ("np.bincount", lambda: np.bincount(idx, minlength=1000)),
    "scatter_add 1000 f32": ("np.add.at", add_at),
    "random uniform f32": ("Generator.random(f32)", lambda: rng.random(n, dtype=np.float32)),
    "filter x > 0 f32": ("x[x > 0]", lambda: x[x > 0]),
    "scan f32 (pool)": ("np.cumsum (f32 sums)", lambda: np.cumsum(x)),
}
if pl is not None:
    df = pl.DataFrame({"k": gk, "v": gv})
    peers["group_by sum 1000 keys f32"] = (
        "polars group_by().sum()", lambda: df.group_by("k").agg(pl.col("v").sum()))

out = subprocess.run([f"{build}/weft", "bench", "prims", "--json", "--n", str(n), "--rows",
                      str(rows), "--runs", str(runs)] + only, check=True, capture_output=True, text=True)
weft = json.loads(out.stdout)
print(f"numpy {np.__version__}, polars {pl.__version__ if pl else '-'}; n = {n}, "
      f"group-by rows = {rows}; medians of {runs}; weft pool of {weft['threads']} threads")
print(f"{'operation':28} {'C loop ms':>10} {'weft ms':>10} {'peer ms':>10}  weft/peer  peer")
for row in weft["rows"]:
    name, peer, peer_ms = row["op"], "-", float("nan")
    if name in peers:
        peer, call = peers[name]
        peer_ms = med(call)
    print(f"{name:28} {row['loop_ms']:10.2f} {row['weft_ms']:10.2f} {peer_ms:10.2f}  "
          f"{peer_ms / row['weft_ms']:8.2f}x  {peer}")
