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
    # With reductions, windows hold whole blocks of 4096 rows: 5000 rows may
    # take one window or two; without, a 4 KiB window takes many.
    assert r.rows == len(frame) and r.stats["windows"] >= 1
    assert weft.csv.run(src, tmp_path / "plain.csv", set={"price2": "price * 2"},
                        window_bytes=4096).stats["windows"] > 1
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


DIALECT_TEXT = (
    "exported by a tool, 2026\n"
    "# columns: id, price, qty, name\n"
    "id,price,qty,name\n"
    "1,2.5,3,a\n"
    "# a comment between records\n"
    "2,1.25,4,\"b, c\"\n"
    "3,9.0,1,c,this row is too long\n"
    "\n"
    "4,3.5,2,d\n"
    "5,0.5,10,e\n"
)


def test_dialect_comments_and_a_bad_row_match_pandas(tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(DIALECT_TEXT)
    r = weft.csv.run(src, dst, set={"total": "price * qty"}, reduce={"qty": "sum: qty"},
                     skip_rows=1, comment="#", bad_rows="skip")
    want = pd.read_csv(src, skiprows=1, comment="#", on_bad_lines="skip")
    want = want.assign(total=want.price * want.qty)
    assert r.rows == len(want) == 4
    assert r.reductions["qty"] == want.qty.sum()
    pd.testing.assert_frame_equal(pd.read_csv(dst), want)
    # By default the long row is an error naming its line.
    with pytest.raises(weft.DataError, match=":7"):
        weft.csv.run(src, None, reduce={"n": "sum: qty"}, skip_rows=1, comment="#")


def test_dialect_pad_matches_pandas(tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,price,name\n1,2.5,a\n2,3.5\n3,0.25,c\n")
    weft.csv.run(src, dst, set={"price": "price * 2"}, bad_rows="pad")
    want = pd.read_csv(src)  # pandas pads a short row with missing values
    want["price"] = want.price * 2
    pd.testing.assert_frame_equal(pd.read_csv(dst), want)
    with pytest.raises(weft.DataError):
        weft.csv.run(src, None, reduce={"n": "sum: price"})


def test_dialect_output_conversion(tmp_path):
    import csv

    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b;c", 'say "hi"'],
                          "x": [0.5, 1.5, 2.25]})
    frame.to_csv(src, index=False)
    weft.csv.run(src, dst, set={"y": "x * 2"}, out_delimiter=";", quoting=csv.QUOTE_ALL,
                 crlf=True)
    raw = dst.read_bytes()
    assert raw.count(b"\r\n") == 4 and raw.startswith(b'"id";"name";"x";"y"\r\n')
    want = frame.assign(y=frame.x * 2)
    assert raw == want.to_csv(sep=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n",
                              index=False).encode()
    weft.csv.run(src, dst, out_delimiter="\t", quoting="minimal")
    pd.testing.assert_frame_equal(pd.read_csv(dst, sep="\t"), frame)
    for bad in ({"quoting": "none"}, {"quoting": csv.QUOTE_NONE}, {"bad_rows": "drop"},
                {"comment": "##"}, {"out_delimiter": ""}, {"skip_rows": -1}):
        with pytest.raises(ValueError):
            weft.csv.run(src, None, **bad)


NA = ["-999", "missing"]


def _na_text(rng, n):
    """A file with missing values spelled every way, at the first and last
    rows, quoted and CRLF-ended, and a column of nothing but missing."""
    spell = ["-999", '"-999"', "missing", "NA", "", '"missing"']
    lines = ["id,x,q,none,name"]
    for i in range(n):
        gone = i in (0, n - 1) or rng.random() < 0.2
        x = spell[rng.integers(len(spell))] if gone else repr(round(float(rng.normal()), 6))
        q = spell[rng.integers(len(spell))] if i in (0, n - 1) else str(int(rng.integers(-50, 50)))
        lines.append(f"{i},{x},{q},{spell[i % len(spell)]},n{i}")
    return "\r\n".join(lines) + "\r\n"


def test_na_values_match_pandas(tmp_path, rng):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(_na_text(rng, 3000), newline="")
    r = weft.csv.run(src, dst, set={"y": "x * 2", "q2": "q + 1", "z": "none + 1"},
                     na_values=NA, window_bytes=4096)
    assert r.stats["windows"] > 1
    want = pd.read_csv(src, na_values=NA)
    assert want.q.dtype == np.float64 and want.none.isna().all()
    want = want.assign(y=want.x * 2, q2=want.q + 1, z=want.none + 1)
    pd.testing.assert_frame_equal(pd.read_csv(dst, na_values=NA), want)
    # One string, as pandas takes it.
    r = weft.csv.run(src, None, reduce={"n": "sum: x == x"}, na_values="missing",
                     types={"x": "f64"})
    assert r.reductions["n"] == pd.read_csv(src, na_values="missing").x.notna().sum()


def test_na_values_reader_matches_pandas(tmp_path, rng):
    src = tmp_path / "in.csv"
    src.write_text(_na_text(rng, 2000), newline="")
    xs = [w["x"] for w in weft.csv.read(src, columns=["x"], na_values=NA, window_bytes=4096)]
    assert len(xs) > 1
    np.testing.assert_array_equal(np.concatenate(xs), pd.read_csv(src, na_values=NA).x.to_numpy())
    with pytest.raises(weft.DataError, match="not a number"):
        for w in weft.csv.read(src, columns=["x"]):
            pass


def test_na_values_in_an_integer_column(tmp_path):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("i\n3\n4\nn.d.\n")
    with pytest.raises(weft.DataError, match=r"in.csv:4:1:.*missing integer"):
        weft.csv.run(src, dst, set={"j": "i * 2"}, na_values=["n.d."], types={"i": "i64"})
    weft.csv.run(src, dst, set={"j": "i * 2"}, na_values=["n.d."], types={"i": "i64"},
                 int_missing=-1)
    assert dst.read_text() == "i,j\n3,6\n4,8\nn.d.,-2\n"
    with pytest.raises(TypeError):
        weft.csv.run(src, None, na_values={"i": ["n.d."]})
    with pytest.raises(TypeError):
        weft.csv.run(src, None, na_values=[None])


def test_na_values_with_a_nul_character_are_refused(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(ValueError, match="NUL"):
        weft.csv.run(src, None, na_values=["a\x00b"])


def test_bytes_and_pathlike_paths_name_the_file(tmp_path, monkeypatch):
    # str() made b"o.csv" the file "b'o.csv'": the output went elsewhere.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("x\n1\n2\n")
    r = weft.csv.run(b"in.csv", b"o.csv", set={"y": "x * 2"})
    assert r.rows == 2
    assert (tmp_path / "o.csv").read_text() == "x,y\n1,2\n2,4\n"
    assert not (tmp_path / "b'o.csv'").exists()
    with pytest.raises(TypeError):
        weft.csv.run(3, None, set={"y": "x * 2"})


def test_one_column_name_as_a_string(tmp_path):
    # select="xy" was iterated letter by letter: columns x and y, silently.
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("x,y,xy\n1,2,3\n")
    weft.csv.run(src, dst, select="xy")
    assert dst.read_text() == "xy\n3\n"
    weft.csv.run(src, dst, drop="xy")
    assert dst.read_text() == "x,y\n1,2\n"


def test_read_takes_the_dialect(tmp_path):
    """Lines before the header, comment lines and short rows, as run() takes
    them: read() had no such options (pandas' salaries_comments.csv could
    not be read, and its error advised bad_rows, which read() refused)."""
    p = tmp_path / "c.csv"
    p.write_text("exported by a tool\n# a comment\na,b\n1,2\n# another\n3\n5,6\n")
    rows = []
    for w in weft.csv.read(str(p), ["a"], skip_rows=1, comment="#", bad_rows="skip"):
        rows.extend(w["a"].tolist())
    assert rows == [1, 5]
    with pytest.raises(weft.Error):
        for w in weft.csv.read(str(p), ["a"], skip_rows=1, comment="#"):
            pass


def test_integer_options_are_integers(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("x,y\n1,a\n,b\n2,c\n")
    with pytest.raises(TypeError, match="int_missing"):
        weft.csv.run(str(p), reduce="sum: x", int_missing=1.5)
    with pytest.raises(ValueError, match="int_missing"):
        weft.csv.run(str(p), reduce="sum: x", int_missing=2**63)
    with pytest.raises(TypeError, match="window_bytes"):
        weft.csv.run(str(p), reduce="sum: x", window_bytes=100.5)
    with pytest.raises(TypeError, match="skip_rows"):
        weft.csv.run(str(p), reduce="sum: x", skip_rows=1.5)
    # numpy's integers are integers
    r = weft.csv.run(str(p), reduce={"s": "sum: x"}, int_missing=np.int64(5))
    assert r.reductions["s"] == 8


def test_reader_refuses_a_name_the_header_gives_twice(tmp_path):
    """It took the first "a" silently, where weft.csv.run refuses."""
    p = tmp_path / "dup.csv"
    p.write_text("a,a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="twice"):
        for _ in weft.csv.read(str(p), ["a"]):
            pass
    for w in weft.csv.read(str(p)):
        assert w.field(0, "b") == b"3"
        with pytest.raises(ValueError, match="twice"):
            w.field(0, "a")


def test_types_of_a_name_with_a_comma(tmp_path):
    """A mapping's key names one column whatever it holds ("Avg TP, $", as
    real headers do): the C string splits at commas, so it goes backquoted."""
    p = tmp_path / "c.csv"
    p.write_text('Event,"Avg TP, $"\nA,1\nB,2\n')
    r = weft.csv.run(str(p), reduce={"s": "sum: `Avg TP, $`"}, types={"Avg TP, $": "f64"})
    assert r.reductions["s"] == 3.0 and isinstance(r.reductions["s"], float)
    p.write_text('`x,y\n1,2\n')
    r = weft.csv.run(str(p), reduce={"s": "sum: ```x`"}, types={"`x": "f64"})
    assert r.reductions["s"] == 1.0 and isinstance(r.reductions["s"], float)


def test_rows_left_out_are_counted(tmp_path):
    """Rows of the wrong width left out are counted in the run's stats."""
    p = tmp_path / "b.csv"
    p.write_text("a,b\n1,2\n3\n4,5,6\n7,8\n")
    r = weft.csv.run(str(p), reduce={"s": "sum: a"}, bad_rows="skip")
    assert r.reductions["s"] == 8
    assert r.stats["rows_skipped"] == 2 and r.rows == 2
