"""replace_rows: the writer behind every reasoning table (forecast history keyed by origin)."""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse.tables import replace_rows


def _read(path, table):
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(f"SELECT * FROM {table} ORDER BY ALL").df()


def test_rows_of_one_key_are_replaced_and_the_others_kept(tmp_path):
    path = tmp_path / "w.duckdb"
    first = pd.DataFrame({"origin": ["2025-01-01"] * 2, "product_id": ["A", "B"], "p50": [1.0, 2.0]})
    second = pd.DataFrame({"origin": ["2025-01-02"] * 2, "product_id": ["A", "B"], "p50": [3.0, 4.0]})
    replace_rows(path, "reasoning", "f", first, key={"origin": "2025-01-01"})
    replace_rows(path, "reasoning", "f", second, key={"origin": "2025-01-02"})
    again = first.assign(p50=[5.0, 6.0])
    assert replace_rows(path, "reasoning", "f", again, key={"origin": "2025-01-01"}) == 4
    table = _read(path, "reasoning.f")
    assert table.loc[table["origin"] == "2025-01-01", "p50"].tolist() == [5.0, 6.0]
    assert table.loc[table["origin"] == "2025-01-02", "p50"].tolist() == [3.0, 4.0]


def test_a_new_column_is_added_and_older_rows_keep_theirs(tmp_path):
    """A newer model reports more (here iv_elasticity) or less (old_only): history stays readable."""
    path = tmp_path / "w.duckdb"
    old = pd.DataFrame({"origin": ["2025-01-01"], "product_id": ["A"], "elasticity": [-2.0], "old_only": [1]})
    new = pd.DataFrame({"origin": ["2025-01-02"], "product_id": ["A"], "elasticity": [-1.8], "iv_elasticity": [-1.5]})
    replace_rows(path, "reasoning", "e", old, key={"origin": "2025-01-01"})
    assert replace_rows(path, "reasoning", "e", new, key={"origin": "2025-01-02"}) == 2
    table = _read(path, "reasoning.e").set_index("origin")
    assert table.loc["2025-01-01", "elasticity"] == -2.0 and pd.isna(table.loc["2025-01-01", "iv_elasticity"])
    assert table.loc["2025-01-02", "iv_elasticity"] == -1.5 and pd.isna(table.loc["2025-01-02", "old_only"])


def test_without_a_key_the_table_is_replaced_whole(tmp_path):
    path = tmp_path / "w.duckdb"
    replace_rows(path, "reasoning", "t", pd.DataFrame({"x": [1, 2, 3]}))
    assert replace_rows(path, "reasoning", "t", pd.DataFrame({"x": [9]})) == 1
    assert _read(path, "reasoning.t")["x"].tolist() == [9]
