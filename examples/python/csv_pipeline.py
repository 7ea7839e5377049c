"""The Dask/pandas CSV pipeline, in windows: read, add a column, aggregate,
write, with memory a few windows whatever the file's size.

    # pandas / Dask:
    df = dd.read_csv("trips.csv")
    df["fare_per_km"] = df.fare / df.km
    df.to_csv("out.csv", single_file=True, index=False)
    total = df.fare.sum().compute()

    python examples/python/csv_pipeline.py [rows]
"""
import os
import sys
import tempfile

import numpy as np

import weft
import weft.csv


def make_file(path, rows):
    rng = np.random.default_rng(1)
    km = np.round(rng.random(rows) * 30 + 0.5, 2)
    fare = np.round(km * 1.7 + rng.random(rows) * 5, 2)
    with open(path, "w") as f:
        f.write("trip,km,fare,driver\n")
        for i in range(rows):
            f.write(f"{i},{km[i]},{fare[i]},driver {i % 97}\n")
    return km, fare


def main(rows=200_000):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "trips.csv"), os.path.join(d, "out.csv")
        km, fare = make_file(src, rows)
        r = weft.csv.run(src, dst, set={"fare_per_km": "fare / km"},
                         reduce={"total_fare": "sum: fare", "longest": "max: km"})
        print(f"{r.rows} rows in {r.stats['windows']} windows, {r.stats['seconds']:.3f} s; "
              f"total fare {r.reductions['total_fare']:.2f}, longest trip {r.reductions['longest']} km")
        assert abs(r.reductions["total_fare"] - fare.sum()) < 1e-6 * fare.sum()

        # Window by window, for work of your own: numpy columns per window.
        per_km = []
        for w in weft.csv.read(dst, columns=["fare_per_km"]):
            per_km.append(w["fare_per_km"])
        per_km = np.concatenate(per_km)
        np.testing.assert_allclose(per_km, fare / km, rtol=1e-15)
        print(f"mean fare per km {per_km.mean():.4f}")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:2]])
