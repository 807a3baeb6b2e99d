"""The short cuts validation takes to start fast give the answers of the long way round.

Each short cut skips an import or a per-run computation (see docs/performance.md); each test
here compares it with what it stands in for, so a short cut that drifts fails here.
"""
from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
from types import SimpleNamespace

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infocontrols.contract import Contract
from infocontrols.validation import constraints, generated, rules, structure

from conftest import ROOT

CONTRACT = Contract.from_descriptor(ROOT)


# ---------------------------------------------------------------- CSV: polars for plain files
TABLE = SimpleNamespace(field_names=["a", "b", "c"], fields=[None, None, None])
HEADER = b"a,b,c\n"


def by_pyarrow(data: bytes):
    arrow, problems = structure._read_with_pyarrow(data, TABLE, "t.csv")
    return None if arrow is None else pl.from_arrow(arrow).rows()


# Lines near the plain shape and off it: cells bare or quoted, with stray quotes, commas,
# spaces, line breaks and CRs, mostly three cells a line, with or without a final LF.
ALPHABET = ["a", " ", ",", '"', "\n", "\r", "é", "中", "\t"]
bare = st.text(alphabet=["a", " ", "é", "中", "\t", "-"], max_size=4)
quoted = st.text(alphabet=["a", " ", ",", '"', "é", "中"], max_size=4).map(lambda t: '"' + t.replace('"', '""') + '"')
junk = st.text(alphabet=ALPHABET, min_size=1, max_size=3)
three = st.lists(st.one_of(bare, bare, quoted), min_size=3, max_size=3)
near = st.lists(st.one_of(bare, quoted, junk), min_size=2, max_size=4)
line = st.one_of(three, three, near).map(",".join)
body = st.tuples(st.lists(line, max_size=4), st.sampled_from(["\n", "\n", "\r\n"]), st.booleans()).map(
    lambda b: b[1].join(b[0]) + (b[1] if b[2] and b[0] else ""))


@pytest.mark.slow  # hundreds of random files
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body)
def test_a_file_read_as_plain_reads_the_same_with_pyarrow(text):
    data = HEADER + text.encode("utf-8")
    plain = structure._read_plain(data, TABLE)
    if plain is not None:
        assert by_pyarrow(data) == plain.rows()
        assert plain.height == data.count(b"\n") - 1


cell = st.one_of(st.just(""), st.text(alphabet=["a", " ", ",", '"', "é", "中", "\t", "-", "="], min_size=1, max_size=8))


@pytest.mark.slow  # hundreds of random files
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(cell, cell, cell), max_size=6))
def test_what_the_csv_module_writes_is_read_as_plain(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([("a", "b", "c"), *rows])
    data = buffer.getvalue().encode("utf-8")
    plain = structure._read_plain(data, TABLE)
    assert plain is not None
    assert plain.rows() == [tuple(v or None for v in row) for row in rows] == (by_pyarrow(data) or [])


@pytest.mark.parametrize("data", [
    HEADER + b"1,2,3\r\n",                 # CR: pyarrow decides
    HEADER + b"1,2,3",                     # no final LF
    b"a,b,c",                              # a header without LF: pyarrow finds no rows to skip
    HEADER + b"1,2\n",                     # too few cells
    HEADER + b"1,2\n4,5,6\n",              # too few cells, then a full line
    HEADER + b"1,2,3\n\n",                 # blank line
    HEADER + b'1,x"y,3\n',                 # a quote inside an unquoted cell
    HEADER + b'1,"x"y,3\n',                # text after a closing quote
    HEADER + b'1,"x\ny",3\n',              # a line break inside quotes
    HEADER + b"1,caf\xe9,3\n",             # not UTF-8
    HEADER + b"1,\xc0\xaf,3\n",             # an overlong encoding
    HEADER + b"1,\xed\xa0\x80,3\n",         # a surrogate
    HEADER + b"1,x\xe4\xb8\n",              # a sequence cut short
])
def test_anything_else_is_left_to_pyarrow(data):
    assert structure._read_plain(data, TABLE) is None


def test_a_blank_line_in_a_one_column_file_is_left_to_pyarrow():
    one = SimpleNamespace(field_names=["a"], fields=[None])
    assert structure._read_plain(b"a\nx\n\ny\n", one) is None
    assert structure._read_plain(b"a\nx\ny\n", one).rows() == [("x",), ("y",)]


def test_every_table_of_the_real_package_is_read_as_plain():
    for table in CONTRACT.tables.values():
        data = (ROOT / table.path).read_bytes()
        assert structure._read_plain(data, table) is not None, table.path


# ---------------------------------------------------------------- constraints: screen, then pandera
def pandera_passes(frame: pl.DataFrame, table) -> bool:
    from pandera.errors import SchemaErrors

    try:
        constraints.pandera_schema(table, CONTRACT).validate(frame, lazy=True)
    except SchemaErrors:
        return False
    return True


def typed(name: str) -> pl.DataFrame:
    return structure.read_table(CONTRACT, CONTRACT.table(name)).frame


@pytest.mark.parametrize("name", list(CONTRACT.tables))
def test_the_real_package_passes_both_the_screen_and_pandera(name):
    table = CONTRACT.table(name)
    assert constraints.screen_passes(typed(name), table, CONTRACT)
    assert pandera_passes(typed(name), table)


BREAKS = {
    "missing required value": ("figures", "source_id", None),
    "duplicate primary key": ("figures", "figure_id", "<dup>"),
    "pattern": ("figures", "quantity", "Not A Slug"),
    "vocabulary": ("figures", "unit", "furlongs"),
    "below minimum": ("figures", "value", -5.0),
    "not a number": ("figures", "value", math.nan),
    "duplicate composite key": ("event_sources", "event_id", "<dup>"),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_each_kind_of_break_fails_the_screen_and_pandera(case):
    name, column, value = BREAKS[case]
    table, frame = CONTRACT.table(name), typed(name)
    if value == "<dup>":
        frame = pl.concat([frame, frame.head(1)])
    else:
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit(value, frame.schema[column])).otherwise(pl.col(column)).alias(column))
    assert not constraints.screen_passes(frame, table, CONTRACT)
    assert not pandera_passes(frame, table)


def _mutations(name: str):
    frame = typed(name)
    columns = frame.columns
    pools = {c: [None, *frame[c].drop_nulls().unique().sort().head(5).to_list()] for c in columns}
    for c in columns:
        if frame.schema[c] == pl.String:
            pools[c] += ["", "x", "Bad Value", "censor"]
        elif frame.schema[c] == pl.Float64:
            pools[c] += [-5.0, 1e30, math.nan]
    edit = st.tuples(st.integers(0, frame.height - 1), st.sampled_from(columns)).flatmap(
        lambda rc: st.tuples(st.just(rc[0]), st.just(rc[1]), st.sampled_from(pools[rc[1]])))
    return st.tuples(st.lists(edit, max_size=3), st.booleans())


def _apply(frame: pl.DataFrame, edits, duplicate: bool) -> pl.DataFrame:
    for row, column, value in edits:
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, frame.schema[column])).otherwise(pl.col(column)).alias(column))
    return pl.concat([frame, frame.tail(1)]) if duplicate else frame


@pytest.mark.slow  # pandera on random mutations
@pytest.mark.parametrize("name", ["figures", "event_sources"])
def test_the_screen_passes_exactly_what_pandera_passes(name):
    table, frame = CONTRACT.table(name), typed(name)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations(name))
    def check(mutation):
        edits, duplicate = mutation
        mutated = _apply(frame, edits, duplicate)
        screened = constraints.screen_passes(mutated, table, CONTRACT)
        if screened:  # the screen never lets through what pandera would report
            assert pandera_passes(mutated, table)
        elif not any(mutated[c].is_nan().any() for c in mutated.columns if mutated.schema[c] == pl.Float64):
            assert not pandera_passes(mutated, table)  # and, without NaN, sends pandera only failures

    check()


uri_like = st.builds(lambda scheme, rest: f"{scheme}:{rest}", st.sampled_from(["http", "h", "a+b.c-d", "1x", ""]), st.text(max_size=12))


@pytest.mark.slow  # hundreds of random URIs
@settings(max_examples=300, deadline=None)
@given(st.lists(uri_like, min_size=1, max_size=20))
def test_a_uri_polars_is_sure_of_is_one_pythons_pattern_accepts(values):
    sure = pl.Series(values, dtype=pl.String).str.contains(constraints.URI_SURE).to_list()
    assert [v for v, ok in zip(values, sure) if ok and not re.match(constraints.URI, v)] == []


def test_no_character_python_calls_whitespace_passes_as_sure_in_a_uri():
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    sure = pl.Series([f"http://x{c}y" for c in spaces]).str.contains(constraints.URI_SURE).to_list()
    assert [repr(c) for c, ok in zip(spaces, sure) if ok] == []


# ---------------------------------------------------------------- recorded and cached tables
def test_the_recorded_nfc_characters_are_those_python_finds():
    import unicodedata

    if unicodedata.unidata_version not in rules._NFC_SINGLES_VERSIONS:
        pytest.skip(f"Unicode {unicodedata.unidata_version} is not one the recorded set is for")
    assert rules._NFC_SINGLES_KNOWN == rules._nfc_singles()


def test_the_common_language_tags_are_valid_bcp47_tags():
    import langcodes

    assert [t for t in sorted(rules.COMMON_LANGUAGE_TAGS) if not langcodes.tag_is_valid(t)] == []
    assert rules._language_ok("english") is False  # any other tag is still asked of langcodes


def test_iso_codes_read_from_pycountrys_files_are_pycountrys_codes():
    import pycountry

    assert rules._iso_codes(pycountry.countries, "3166-1", "alpha_2") == frozenset(c.alpha_2 for c in pycountry.countries)
    assert rules._iso_codes(pycountry.subdivisions, "3166-2", "code") == frozenset(s.code for s in pycountry.subdivisions)


def test_iso_codes_fall_back_to_pycountrys_objects():
    class Database(list):
        filename = "/nonexistent/iso.json"

    assert rules._iso_codes(Database([SimpleNamespace(code="CN-BJ")]), "3166-2", "code") == {"CN-BJ"}


def test_parquet_footer_metadata_read_by_polars_is_what_pyarrow_reads():
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in sorted((ROOT / "data").glob("*.parquet")):
        data = path.read_bytes()
        ours = generated._footer_metadata(data)
        theirs = pq.ParquetFile(pa.BufferReader(data)).schema_arrow.metadata
        keys = [k for k in theirs if k.startswith(b"infocontrols.")]
        assert keys and {k: ours[k] for k in keys} == {k: theirs[k] for k in keys}, path.name
        assert generated._footer_metadata(data[: len(data) // 2]) is None  # damaged: pyarrow's verdict and message


@pytest.mark.slow  # a fresh Python in a subprocess
def test_validating_the_real_package_imports_no_pyarrow_pandas_or_pandera():
    code = (
        "import sys\n"
        "from infocontrols.validation import validate_package\n"
        f"assert validate_package({str(ROOT)!r}).ok\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'pandas', 'pandera', 'frictionless', 'langcodes') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
