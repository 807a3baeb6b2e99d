"""One failing fixture per rule: mutate the real package, expect that rule at that line.

Every rule in the registry must have a case here (see test_every_rule_has_a_failing_fixture).
"""
from __future__ import annotations

import pytest

from infocontrols.contract import ContractError
from infocontrols.validation import RULES


def first_event_with(pkg, column, value):
    return pkg.find("events", column, value)


# Each case: rule id -> function(pkg) returning (file, line) where the finding must be.
def m_req001(pkg):
    return "data/events.csv", pkg.set_cell("events", 3, "title", "")


def m_key001(pkg):
    rows = pkg.rows("event_sources")
    rows.insert(2, list(rows[1]))
    pkg.write_rows("event_sources", rows)
    return "data/event_sources.csv", 3


def m_key002(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 0, "figure_id", "FI-Bad ID")


def m_unq001(pkg):
    url = pkg.cell("sources", 0, "url")
    return "data/sources.csv", pkg.set_cell("sources", 1, "url", url)


def m_pat001(pkg):
    return "data/actors.csv", pkg.set_cell("actors", 0, "wikidata_id", "42")


def m_voc001(pkg):
    return "data/events.csv", pkg.set_cell("events", 5, "event_type", "censor")


def m_rng001(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 2, "value", "-5")


def m_voc002(pkg):
    return "schema/vocabularies.csv", pkg.set_cell("vocabularies", 4, "definition", "")


def m_key003(pkg):
    return "data/event_actors.csv", pkg.set_cell("event_actors", 1, "actor_id", "ac-nobody-at-all")


def m_key004(pkg):
    rows = pkg.rows("retired_ids")
    actor = pkg.cell("actors", 0, "actor_id")
    rows.append([actor, "", "2026-11-01", "merged into another record"])
    pkg.write_rows("retired_ids", rows)
    return "data/actors.csv", 2


def m_key005(pkg):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-C", str(pkg.root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "baseline")
    rows = pkg.rows("figures")
    del rows[1]
    pkg.write_rows("figures", rows)
    pkg.baseline = "HEAD"
    return "data/figures.csv", 0


def m_key006(pkg):
    rows = pkg.rows("retired_ids")
    rows.append(["ev-2000-01-01-an-old-record", "ev-2000-01-01-does-not-exist", "2026-11-01", "renamed"])
    pkg.write_rows("retired_ids", rows)
    return "data/retired_ids.csv", 2


def m_date001(pkg):
    return "data/events.csv", pkg.set_cell("events", 2, "date_start", "2018-02-30")


def m_type001(pkg):
    return "data/figures.csv", pkg.set_cell("figures", 1, "value", "about ten")


def m_date002(pkg):
    i = first_event_with(pkg, "date_precision", "day")
    pkg.set_cell("events", i, "date_start", "2019-05-02")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", "2019-05-01")


def m_date003(pkg):
    i = first_event_with(pkg, "date_precision", "month")
    start = pkg.cell("events", i, "date_start")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", start[:8] + "15")


def m_date004(pkg):
    i = first_event_with(pkg, "date_basis", "occurred")
    pkg.set_cell("events", i, "date_start", "2031-01-01")
    pkg.set_cell("events", i, "date_end", "2031-01-01")
    return "data/events.csv", pkg.set_cell("events", i, "date_precision", "day")


def m_date005(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "accessed_on", "2030-01-01")


def m_date006(pkg):
    # Its only source is dated 2021-02-25; move the event after that, as 'announced'.
    i = pkg.find("events", "event_id", "ev-2021-02-24-beijing-draft-social-credit-regulations")
    pkg.set_cell("events", i, "date_start", "2022-03-01")
    return "data/events.csv", pkg.set_cell("events", i, "date_end", "2022-03-01")


def m_date007(pkg):
    i = next(i for i, r in enumerate(pkg.rows("measures")[1:]) if r[9] and r[8])
    return "data/measures.csv", pkg.set_cell("measures", i, "date_effective", "2000-01-01")


def m_src001(pkg):
    event_id = pkg.cell("events", 0, "event_id")
    rows = pkg.rows("event_sources")
    kept = [rows[0]] + [r for r in rows[1:] if not (r[0] == event_id and r[2] == "supports")]
    pkg.write_rows("event_sources", kept)
    return "data/events.csv", 2


def m_src002(pkg):
    rows = pkg.rows("figures")
    other = next(r[0] for r in pkg.rows("sources")[1:] if r[0] not in {x[1] for x in pkg.rows("event_sources")[1:] if x[0] == rows[1][1]})
    return "data/figures.csv", pkg.set_cell("figures", 0, "source_id", other)


def m_src003(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 3, "url", "https://user:secret@example.org/page")


def m_src004(pkg):
    url = pkg.cell("sources", 0, "url")
    twin = url.replace("https://", "http://", 1) if url.startswith("https://") else url.replace("http://", "https://", 1)
    line = pkg.set_cell("sources", 1, "url", twin)
    return "data/sources.csv", max(line, 2)


def m_src005(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "archive_url", "https://example.org/copy")


def m_src006(pkg):
    rows = pkg.rows("sources")
    rows.append(["so-zzz-unused", "https://example.org/unused", "Unused", "Example", "", "newspaper", "en", "", "2026-11-01", "", ""])
    pkg.write_rows("sources", rows)
    return "data/sources.csv", len(rows)


def m_src007(pkg):
    rows = pkg.rows("actors")
    rows.append(["ac-zzz-nobody", "Nobody", "", "person", "", "", "", "", ""])
    pkg.write_rows("actors", rows)
    return "data/actors.csv", len(rows)


def m_evd001(pkg):
    i = next(i for i, r in enumerate(pkg.rows("events")[1:]) if r[12] == "confirmed")
    event_id = pkg.cell("events", i, "event_id")
    rows = pkg.rows("event_sources")
    if any(r[0] == event_id and r[2] == "contradicts" for r in rows[1:]):
        pytest.fail("fixture assumption: pick an event without contradicting sources")
    return "data/events.csv", pkg.set_cell("events", i, "evidence_status", "disputed")


def m_evd002(pkg):
    event_id = "ev-2021-02-24-beijing-draft-social-credit-regulations"
    source_id = pkg.rows("event_sources")[1:]
    source_id = next(r[1] for r in source_id if r[0] == event_id)
    j = pkg.find("sources", "source_id", source_id)
    pkg.set_cell("sources", j, "outlet_type", "aggregator")
    return "data/events.csv", pkg.find("events", "event_id", event_id) + 2


def m_txt001(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "location", "Cafe\u0301")


def m_txt002(pkg):
    return "data/events.csv", pkg.set_cell("events", 1, "summary", "hidden\u200bspace")


def m_txt003(pkg):
    return "data/actors.csv", pkg.set_cell("actors", 2, "name", " Leading space")


def m_txt004(pkg):
    return "data/events.csv", pkg.set_cell("events", 4, "notes", "=HYPERLINK(\"http://x\")")


def m_iso001(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "country", "XX")


def m_iso002(pkg):
    return "data/events.csv", pkg.set_cell("events", 0, "admin1", "CN-ZZ")


def m_iso003(pkg):
    return "data/sources.csv", pkg.set_cell("sources", 0, "language", "english")


def m_ord001(pkg):
    rows = pkg.rows("events")
    rows[1], rows[2] = rows[2], rows[1]
    pkg.write_rows("events", rows)
    return "data/events.csv", 2


# Structural rules have their own file of bad-input tests; each is also here for the registry.
def m_desc001(pkg):
    (pkg.root / "datapackage.json").write_text("{not json", encoding="utf-8")
    pkg.expect_error = True
    return "datapackage.json", 1


def m_str(kind):
    def mutate(pkg):
        path = pkg.path("figures")
        data = path.read_bytes()
        if kind == "STR001":
            path.unlink()
            return "data/figures.csv", 0
        if kind == "STR002":
            path.write_bytes(data.replace(b"\n", "\nCaf\xe9 ".encode("latin-1"), 2))
            return "data/figures.csv", 2
        if kind == "STR003":
            path.write_bytes(b"\xef\xbb\xbf" + data)
            return "data/figures.csv", 1
        if kind == "STR004":
            path.write_bytes(data.replace(b"\n", b"\r\n"))
            return "data/figures.csv", 1
        if kind == "STR005":
            path.write_bytes(data + b"\x00")
            return "data/figures.csv", data.count(b"\n") + 1
        if kind == "STR006":
            path.write_bytes(b"")
            return "data/figures.csv", 0
        if kind == "STR007":
            path.write_bytes(data.replace(b"figure_id,event_id", b"event_id,figure_id", 1))
            return "data/figures.csv", 1
        if kind == "STR008":
            lines = data.split(b"\n")
            lines[3] = lines[3] + b',"unbalanced'
            path.write_bytes(b"\n".join(lines))
            return "data/figures.csv", 4
        if kind == "STR009":
            rows = pkg.rows("figures")
            rows[2][-1] = "x" * 30_000
            pkg.write_rows("figures", rows)
            return "data/figures.csv", 3
        if kind == "STR010":
            path.write_bytes(data.split(b"\n")[0] + b"\n")
            return "data/figures.csv", 1
        if kind == "STR011":
            secret = pkg.root.parent / "secret.txt"
            secret.write_text("figure_id,event_id\nTOP SECRET\n", encoding="utf-8")
            path.unlink()
            path.symlink_to(secret)
            return "data/figures.csv", 0
        if kind == "STR012":
            rows = pkg.rows("figures")
            del rows[1]
            pkg.write_rows("figures", rows)  # edited without `infocontrols build`
            return "data/figures.parquet", 0
        raise AssertionError(kind)
    return mutate


CASES = {
    "REQ001": m_req001, "KEY001": m_key001, "KEY002": m_key002, "UNQ001": m_unq001, "PAT001": m_pat001,
    "VOC001": m_voc001, "RNG001": m_rng001, "VOC002": m_voc002, "KEY003": m_key003, "KEY004": m_key004,
    "KEY005": m_key005, "KEY006": m_key006, "DATE001": m_date001, "TYPE001": m_type001, "DATE002": m_date002,
    "DATE003": m_date003, "DATE004": m_date004, "DATE005": m_date005, "DATE006": m_date006, "DATE007": m_date007,
    "SRC001": m_src001, "SRC002": m_src002, "SRC003": m_src003, "SRC004": m_src004, "SRC005": m_src005,
    "SRC006": m_src006, "SRC007": m_src007, "EVD001": m_evd001, "EVD002": m_evd002, "TXT001": m_txt001,
    "TXT002": m_txt002, "TXT003": m_txt003, "TXT004": m_txt004, "ISO001": m_iso001, "ISO002": m_iso002,
    "ISO003": m_iso003, "ORD001": m_ord001, "DESC001": m_desc001,
    **{f"STR{n:03d}": m_str(f"STR{n:03d}") for n in range(1, 13)},
}


def test_every_rule_has_a_failing_fixture():
    assert set(RULES) == set(CASES)


def test_real_package_is_valid(real_report):
    assert real_report.ok, [f for f in real_report.errors][:5]
    assert not real_report.warnings


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_reports_its_line(rule, package):
    file, line = CASES[rule](package)
    if getattr(package, "expect_error", False):
        # The descriptor cannot be read: validation stops with a ContractError (CLI exit 2).
        with pytest.raises(ContractError, match=f"{file}:{line}: not valid JSON"):
            package.validate()
        return
    report = package.validate(baseline=getattr(package, "baseline", None))
    hits = [f for f in report.findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {sorted({f.rule for f in report.findings})}"
    assert any(f.file == file and f.line == line for f in hits), [(f.file, f.line, f.message) for f in hits[:5]]
    assert all(f.severity == RULES[rule].severity for f in hits)
    if RULES[rule].severity == "error":
        assert not report.ok


def test_unknown_code_gets_a_did_you_mean_hint(package):
    line = package.set_cell("events", 5, "event_type", "law_isued")
    hit = next(f for f in package.validate().findings if f.rule == "VOC001")
    assert hit.line == line and "did you mean 'law_issued'" in hit.message


def test_findings_are_lazy_all_of_them_not_the_first(package):
    for i in range(7):
        package.set_cell("events", i, "event_type", "nonsense")
    package.set_cell("actors", 0, "country", "XX")
    report = package.validate()
    assert len(report.by_rule("VOC001")) == 7
    assert len(report.by_rule("ISO001")) == 1
