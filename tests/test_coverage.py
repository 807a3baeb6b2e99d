"""Coverage targets (issue 13), measured on the data (not typed in)."""
from __future__ import annotations

import csv
from collections import Counter

import infocontrols as ic
from conftest import ROOT


def csv_rows(table: str) -> list[dict]:
    """A table read straight from its CSV, independent of the loader."""
    with (ROOT / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def in_range(events):
    years = events["date_start"].dt.year
    return events[(years >= 2017) & (years <= 2020)]


def test_at_least_300_events_in_all():
    assert len(ic.load("events")) >= 300


def test_at_least_60_events_each_year_2017_to_2020():
    counts = in_range(ic.load("events"))["date_start"].dt.year.value_counts()
    for year in (2017, 2018, 2019, 2020):
        assert counts.get(year, 0) >= 60, (year, counts.to_dict())


def test_at_least_15_events_in_every_control_domain():
    """Every code of the control_domain vocabulary (read from schema/, not from the loader)."""
    with (ROOT / "schema" / "vocabularies.csv").open(encoding="utf-8", newline="") as handle:
        domains = [r["code"] for r in csv.DictReader(handle) if r["vocabulary"] == "control_domain"]
    counts = Counter(r["control_domain"] for r in csv_rows("events"))
    assert len(domains) >= 10
    for domain in domains:
        assert counts[domain] >= 15, (domain, counts[domain])


def test_at_least_30_percent_of_events_cite_a_chinese_language_source():
    chinese = {r["source_id"] for r in csv_rows("sources") if r["language"].split("-")[0] == "zh"}
    citing = {r["event_id"] for r in csv_rows("event_sources") if r["source_id"] in chinese}
    events = {r["event_id"] for r in csv_rows("events")}
    assert len(citing & events) / len(events) >= 0.30, (len(citing & events), len(events))


def test_most_events_have_two_independent_outlets():
    links = ic.load("event_sources")
    sources = ic.load("sources")
    supporting = links[links["stance"] == "supports"].merge(sources, on="source_id")
    supporting["outlet_key"] = supporting["original_outlet"].fillna(supporting["outlet"]).str.lower()
    outlets = supporting.groupby("event_id", observed=True)["outlet_key"].nunique()
    events = in_range(ic.load("events"))
    share = (outlets.reindex(events["event_id"]).fillna(0) >= 2).mean()
    assert share >= 0.60, share


def test_every_quantity_has_its_source_linked():
    figures = ic.load("figures")
    links = ic.load("event_sources")
    linked = set(zip(links["event_id"], links["source_id"]))
    assert all((e, s) in linked for e, s in zip(figures["event_id"], figures["source_id"]))
