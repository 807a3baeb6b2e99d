"""The README's picture: counts from the data, readable labels, reproducible SVG bytes."""
from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

import polars as pl
import pytest

from infocontrols.chart import CHART_PATH, TITLE, counts, events_chart
from infocontrols.contract import Contract
from infocontrols.validation.structure import read_table

from conftest import ROOT, arrow_rows

CONTRACT = Contract.from_source(ROOT)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return read_table(CONTRACT, CONTRACT.table("events")).frame


def test_counts_are_events_by_domain_and_year(events):
    labels, years, grid = counts(CONTRACT, events)
    expected = collections.Counter((e["control_domain"], int(e["date_start"][:4])) for e in arrow_rows("events"))
    vocab = CONTRACT.vocabulary("control_domain")
    codes = [c for c in vocab.codes if any(d == c for d, _ in expected)]
    assert labels == [vocab.labels[c] for c in codes]
    assert years == list(range(min(y for _, y in expected), max(y for _, y in expected) + 1))
    assert grid == [[expected.get((c, y), 0) for y in years] for c in codes]


@pytest.mark.slow  # draws the chart with matplotlib
def test_svg_is_reproducible_and_is_the_committed_file(events):
    svg = events_chart(CONTRACT, events)
    assert svg == events_chart(CONTRACT, events)
    assert (ROOT / CHART_PATH).read_bytes() == svg


def test_svg_shows_title_labels_and_every_count(events):
    root = ET.fromstring((ROOT / CHART_PATH).read_bytes())
    texts = [t.text.strip() for t in root.iter(f"{SVG}text") if t.text]
    labels, years, grid = counts(CONTRACT, events)
    assert TITLE in texts and root.find(f"{SVG}title").text == TITLE
    for label in labels:
        assert label in texts
    for year in years:
        assert str(year) in texts
    numbers = collections.Counter(t for t in texts if t.isdigit())
    cells = collections.Counter(str(n) for row in grid for n in row if n)
    totals = collections.Counter([str(sum(r)) for r in grid] + [str(sum(col)) for col in zip(*grid)] + [str(sum(map(sum, grid)))])
    assert numbers == cells + totals + collections.Counter(str(y) for y in years)
    assert b"<dc:date>" not in (ROOT / CHART_PATH).read_bytes(), "no build date in the bytes"


def test_readme_opens_with_the_chart():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    before_first_section = readme.split("\n## ", 1)[0]
    assert f"]({CHART_PATH})" in before_first_section


def test_build_without_matplotlib_says_which_extra_to_install(tmp_path, monkeypatch):
    import sys

    from infocontrols.build import BuildError, outputs

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(BuildError, match=r"needs matplotlib: pip install 'infocontrols\[build\]'"):
        outputs(CONTRACT)
