"""Issue 6's coverage targets, measured on the data (not typed in)."""
from __future__ import annotations

import infocontrols as ic


def in_range(events):
    years = events["date_start"].dt.year
    return events[(years >= 2017) & (years <= 2020)]


def test_at_least_150_events_2017_to_2020():
    assert len(in_range(ic.load("events"))) >= 150


def test_at_least_20_events_each_year():
    counts = in_range(ic.load("events"))["date_start"].dt.year.value_counts()
    for year in (2017, 2018, 2019, 2020):
        assert counts.get(year, 0) >= 20, (year, counts.to_dict())


def test_eight_domains_with_five_events():
    counts = in_range(ic.load("events"))["control_domain"].value_counts()
    assert (counts >= 5).sum() >= 8, counts.to_dict()


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
