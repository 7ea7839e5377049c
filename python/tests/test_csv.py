"""weft.csv against pandas on small files."""
import numpy as np
import pytest

import weft
import weft.csv

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame(rng):
    n = 5000
    return pd.DataFrame({
        "id": np.arange(n),
        "price": np.round(rng.random(n) * 100, 3),
        "qty": rng.integers(0, 50, n),
        "name": [f"item {i}, \"quoted\"" if i % 7 == 0 else f"item{i}" for i in range(n)],
    })


def test_run_matches_pandas(tmp_path, frame):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    r = weft.csv.run(src, dst, set={"total": "price * qty", "price2": "price * 2"},
                     reduce={"revenue": "sum: price * qty", "most": "max: qty"}, window_bytes=4096)
    assert r.rows == len(frame) and r.stats["windows"] > 1
    got = pd.read_csv(dst)
    want = frame.assign(total=frame.price * frame.qty, price2=frame.price * 2)
    pd.testing.assert_frame_equal(got, want)
    assert r.reductions["revenue"] == pytest.approx((frame.price * frame.qty).sum(), rel=1e-12)
    assert r.reductions["most"] == frame.qty.max()


def test_select_drop_and_reductions_only(tmp_path, frame):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    weft.csv.run(src, dst, set=["qty = qty + 1"], select=["qty", "id"])
    got = pd.read_csv(dst)
    pd.testing.assert_frame_equal(got, pd.DataFrame({"qty": frame.qty + 1, "id": frame.id}))
    r = weft.csv.run(src, reduce={"n": "sum: price > 50"})
    assert r.reductions["n"] == (frame.price > 50).sum()


def test_reader_windows(tmp_path, frame):
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    prices, ids, first_rows = [], [], []
    for w in weft.csv.read(src, columns=["price", "id"], window_bytes=8192):
        prices.append(w["price"])
        ids.append(w["id"])
        first_rows.append(w.first_row)
        assert w.field(0, "name").decode().strip('"').startswith("item")
    assert len(prices) > 1 and first_rows[0] == 0
    np.testing.assert_array_equal(np.concatenate(prices), frame.price.to_numpy())
    np.testing.assert_array_equal(np.concatenate(ids), frame.id.to_numpy())
    assert np.concatenate(ids).dtype == np.int64


def test_malformed_input_names_the_line(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(weft.WeftError) as e:
        weft.csv.run(src, set={"c": "a + b"})
    assert e.value.status_name == "WEFT_ERR_DATA"
    assert "bad.csv:3" in str(e.value)
