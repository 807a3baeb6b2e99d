"""Loading: typed tables in pandas, polars and Arrow, offline, nothing lost on the way."""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import infocontrols as ic
from infocontrols.build import parquet_bytes
from infocontrols.contract import Contract

from conftest import coded_fields, copy_package, csv_rows, vocabulary_codes


def test_pandas_types_follow_the_schema():
    events = ic.load("events")
    assert str(events["date_start"].dtype).startswith("datetime64")
    assert isinstance(events["event_type"].dtype, pd.CategoricalDtype)
    assert list(events["date_precision"].cat.categories) == ["day", "week", "month", "year"]
    assert isinstance(events["title"].dtype, pd.StringDtype)
    figures = ic.load("figures")
    assert figures["value"].dtype == "float64"
    assert events["event_id"].is_unique and events["event_id"].tolist() == [r["event_id"] for r in csv_rows("events")]


def test_polars_and_arrow_hold_the_same_data():
    events = ic.load("events")
    polars_events = ic.load("events", backend="polars")
    arrow_events = ic.load("events", backend="arrow")
    assert polars_events.schema["date_start"] == pl.Date
    assert isinstance(polars_events.schema["event_type"], pl.Enum)
    assert pa.types.is_dictionary(arrow_events.schema.field("control_domain").type)
    assert arrow_events.schema.field("date_end").type == pa.date32()
    assert polars_events["event_id"].to_list() == events["event_id"].tolist() == arrow_events.column("event_id").to_pylist()
    assert polars_events["event_type"].cast(pl.String).to_list() == events["event_type"].astype(str).tolist()


def test_unknown_backend_and_table_are_clear_errors():
    with pytest.raises(ValueError, match="backend must be one of"):
        ic.load("events", backend="spark")
    with pytest.raises(KeyError, match="no table 'event'"):
        ic.load("event")


def test_helpers():
    assert ic.tables()[:4] == ["events", "actors", "measures", "sources"]
    assert ic.path("events").name == "events.csv" and ic.path("events").is_file()
    assert ic.path("events", fmt="parquet").is_file()
    vocab = ic.vocabulary("stance")
    assert list(vocab.columns) == ["code", "label", "definition"] and list(vocab["code"]) == ["supports", "contradicts", "context"]
    assert ic.package().get_resource("events").path == "data/events.csv"
    assert ic.validate().ok


def test_events_wide_gathers_links():
    wide = ic.events_wide()
    assert len(wide) == len(ic.load("events"))
    row = wide.set_index("event_id").loc["ev-2018-11-14-cac-summons-self-media-platforms"]
    assert "ac-cyberspace-administration-of-china" in row["actor_ids"]
    assert "https://3g.china.com/act/news/10000159/20181116/34448168.html" in row["source_urls"]
    assert {f["value"] for f in row["figures"] if f["metric"] == "platforms_summoned"} == {9.0, 10.0}
    links = ic.load("event_sources")
    supporting = links[links["stance"] == "supports"].groupby("event_id", observed=True).size()
    counts = wide.set_index("event_id")["source_ids"].map(len)
    assert (counts[supporting.index] == supporting).all()
    # an event with no measures has an empty list, not a missing value (pandas 3 holds lists as Arrow)
    with_measures = set(ic.load("event_measures")["event_id"].astype(str))
    without = wide[~wide["event_id"].astype(str).isin(with_measures)]
    assert len(without) > 0 and all(v == [] for v in without["measure_ids"])


@pytest.mark.slow  # a fresh Python in a subprocess
def test_import_is_light_and_works_offline():
    code = (
        "import sys, socket\n"
        "def refuse(*args, **kwargs):\n"
        "    raise OSError('network use in a test of offline loading')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import infocontrols as ic\n"
        "assert 'frictionless' not in sys.modules and 'pandera' not in sys.modules\n"
        "print(len(ic.load('events')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(ic.load("events"))


def test_csv_fallback_matches_parquet(tmp_path):
    root = copy_package(tmp_path / "pkg")
    (root / "data" / "figures.parquet").unlink()
    from_csv = ic.load("figures", root=root)
    from_parquet = ic.load("figures")
    pd.testing.assert_frame_equal(from_csv, from_parquet)


# --------------------------------------------------------------- nothing lost
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\u200b\u200c\u200d\u2060\ufeff"),
    min_size=0, max_size=40,
).map(lambda s: s.strip())
day = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@pytest.mark.slow  # builds and loads generated tables
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(text, text, day, st.one_of(st.none(), text), st.sampled_from(["day", "week", "month", "year"])), min_size=1, max_size=15))
def test_round_trip_csv_build_load(tmp_path_factory, rows):
    """Random rows (CJK and other Unicode, empty cells, boundary dates) come back exactly."""
    root = copy_package(tmp_path_factory.mktemp("rt") / "pkg")
    contract = Contract.from_descriptor(root)
    table = contract.table("events")
    records = []
    for n, (title, summary, start, notes, precision) in enumerate(rows):
        records.append({
            "event_id": f"ev-{n:04d}", "title": title or "标题", "summary": summary or "摘要 ünïcode",
            "event_type": "blocking", "control_domain": "network_blocking", "date_start": start.isoformat(),
            "date_end": start.isoformat(), "date_precision": precision, "date_basis": "occurred", "country": "CN",
            "admin1": "", "location": "", "evidence_status": "reported", "notes": notes or "",
        })
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.field_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    (root / table.path).write_text(buffer.getvalue(), encoding="utf-8")
    (root / "data" / "events.parquet").write_bytes(parquet_bytes(table, contract))
    for backend in ("arrow", "pandas"):
        loaded = ic.load("events", backend=backend, root=root)
        frame = loaded.to_pandas() if backend == "arrow" else loaded
        assert frame["event_id"].tolist() == [r["event_id"] for r in records]
        assert [str(x) for x in frame["title"]] == [r["title"] for r in records]
        assert [str(x) for x in frame["summary"]] == [r["summary"] for r in records]
        notes = [None if pd.isna(x) else str(x) for x in frame["notes"]]
        assert notes == [r["notes"] or None for r in records], "an empty cell loads as missing"
        starts = [pd.Timestamp(x).date() if backend == "pandas" else x for x in frame["date_start"]]
        assert starts == [dt.date.fromisoformat(r["date_start"]) for r in records]


def test_disagreements_lists_quantities_whose_sources_differ(package):
    import infocontrols as ic

    for parquet in (package.root / "data").glob("*.parquet"):
        parquet.unlink()  # load from the CSV this test edits
    rows = package.rows("figures")
    head = rows[0]
    col = {name: head.index(name) for name in head}
    base = rows[1]
    same = list(base)
    same[col["figure_id"]] = "fi-zzz-same-value"
    same[col["quantity"]] = "zz-agreeing-quantity"
    base_same = list(base)
    base_same[col["figure_id"]] = "fi-zzz-same-value-2"
    base_same[col["quantity"]] = "zz-agreeing-quantity"
    differ = list(base)
    differ[col["figure_id"]] = "fi-zzz-other-value"
    differ[col["quantity"]] = "zz-disputed-quantity"
    differ[col["value"]] = "7"
    differ_2 = list(differ)
    differ_2[col["figure_id"]] = "fi-zzz-other-value-2"
    differ_2[col["value"]] = "9"
    package.write_rows("figures", rows + [same, base_same, differ, differ_2])
    table = ic.disagreements(root=package.root)
    mine = table[table["quantity"].astype(str).str.startswith("zz-")]
    assert list(mine["quantity"]) == ["zz-disputed-quantity"]
    assert mine.iloc[0]["values"] == [7.0, 9.0]
    assert mine.iloc[0]["figure_ids"] == ["fi-zzz-other-value", "fi-zzz-other-value-2"]


def test_codes_are_unordered_categories_in_vocabulary_order():
    """Every coded field, in pandas and polars, has as categories its whole vocabulary in the order
    of schema/vocabularies.csv, read here from the files rather than from the loaders' contract."""
    import infocontrols as ic

    vocabularies = vocabulary_codes()
    fields = coded_fields()
    assert ("events", "event_type") in fields and len(fields) >= 10
    for (table, name), vocabulary in fields.items():
        codes = vocabularies[vocabulary]
        frame = ic.load(table)
        assert list(frame[name].cat.categories) == codes, (table, name)
        assert frame[name].cat.ordered is False, (table, name)  # nominal codes: README says why
        assert ic.load(table, backend="polars").schema[name].categories.to_list() == codes, (table, name)
        assert set(frame[name].dropna().astype(str)) <= set(codes)
        assert frame[name].astype(object).where(frame[name].notna(), "").tolist() == [r[name] for r in csv_rows(table)], (table, name)
