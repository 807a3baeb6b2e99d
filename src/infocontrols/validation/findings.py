"""Findings (one problem at one place) and the registry of rules that produce them."""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """A check with a stable id, a severity and a one-line description."""

    id: str
    severity: str
    description: str
    phase: str  # "structure" or "rules"


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (file, line, column), the value, the rule and a message.

    ``line`` is the 1-based line in the file (the header is line 1), or 0 when the
    finding concerns the whole file.
    """

    file: str
    line: int
    column: str
    value: str
    rule: str
    severity: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


RULES: dict[str, Rule] = {}


def _rule(id: str, severity: str, description: str, phase: str = "rules") -> Rule:
    RULES[id] = Rule(id, severity, description, phase)
    return RULES[id]


# Phase 1: the descriptor and the files.
DESC001 = _rule("DESC001", ERROR, "The descriptor and every schema it names are readable JSON and every resource path stays inside the package.", "structure")
STR001 = _rule("STR001", ERROR, "Every resource file named by the descriptor exists.", "structure")
STR002 = _rule("STR002", ERROR, "Files are encoded in UTF-8.", "structure")
STR003 = _rule("STR003", ERROR, "Files have no byte-order mark (fixed by `infocontrols fmt`).", "structure")
STR004 = _rule("STR004", ERROR, "Lines end with LF, not CRLF or CR (fixed by `infocontrols fmt`).", "structure")
STR005 = _rule("STR005", ERROR, "Files contain no NUL byte.", "structure")
STR006 = _rule("STR006", ERROR, "Files are not empty: they have at least a header.", "structure")
STR007 = _rule("STR007", ERROR, "The header is exactly the schema's fields in the schema's order.", "structure")
STR008 = _rule("STR008", ERROR, "Every row parses as CSV with one cell per field (balanced quotes, no line breaks inside cells).", "structure")
STR009 = _rule("STR009", ERROR, "No cell is longer than the cell size limit.", "structure")
STR010 = _rule("STR010", ERROR, "Tables have at least one data row (unless the table may be empty).", "structure")
STR011 = _rule("STR011", ERROR, "Resource files are regular files inside the package (no symbolic links, FIFOs, devices or folders) and within the size limit.", "structure")
STR012 = _rule("STR012", ERROR, "Generated files match the CSV: each Parquet file holds its own table built from the current CSV, and datapackage.json records each file's current size and hash (run `infocontrols build`).", "structure")
TYPE001 = _rule("TYPE001", ERROR, "Every number cell parses as a number.", "structure")
DATE001 = _rule("DATE001", ERROR, "Every date cell is a real calendar date written YYYY-MM-DD.", "structure")

# Phase 2: the schema's constraints (generated as pandera checks).
REQ001 = _rule("REQ001", ERROR, "Required fields have a value.")
KEY001 = _rule("KEY001", ERROR, "Primary keys are unique (composite keys for link tables).")
KEY002 = _rule("KEY002", ERROR, "IDs match their table's prefix pattern: 'ev-', 'ac-', 'me-', 'so-', 'fi-' and a lowercase slug.")
UNQ001 = _rule("UNQ001", ERROR, "Fields declared unique (such as source URLs) hold no duplicates.")
PAT001 = _rule("PAT001", ERROR, "Values match their field's pattern (codes such as wikidata_id, country, admin1).")
VOC001 = _rule("VOC001", ERROR, "Every coded value is in its vocabulary.")
RNG001 = _rule("RNG001", ERROR, "Numbers lie within their field's minimum and maximum.")

# Phase 2: hand-written rules.
VOC002 = _rule("VOC002", ERROR, "Every vocabulary entry has a label and a definition, and every coded field names an existing vocabulary.")
KEY003 = _rule("KEY003", ERROR, "Every foreign key resolves: link tables, parent actors, measure authorities, figures.")
KEY004 = _rule("KEY004", ERROR, "A retired ID never reappears in the data.")
KEY005 = _rule("KEY005", ERROR, "An ID present at the baseline revision and gone now is listed in data/retired_ids.csv.")
KEY006 = _rule("KEY006", ERROR, "A retired ID's replacement exists in the data.")
DATE002 = _rule("DATE002", ERROR, "date_start is on or before date_end; a measure ends on or after it takes effect.")
DATE003 = _rule("DATE003", ERROR, "The date range fits date_precision (day: one day; week: at most 7 days; month: one whole month; year: one whole year).")
DATE004 = _rule("DATE004", ERROR, "No date lies after today unless its basis says it is scheduled or effective.")
DATE005 = _rule("DATE005", ERROR, "A source's published_on <= accessed_on <= today.")
DATE006 = _rule("DATE006", ERROR, "An event whose supporting sources were all published before its date_start has a scheduled or effective basis.")
DATE007 = _rule("DATE007", WARNING, "A measure is announced on or before the date it takes effect.")
SRC001 = _rule("SRC001", ERROR, "Every event has at least one supporting source.")
SRC002 = _rule("SRC002", ERROR, "Every figure's source is linked to the figure's event in event_sources.")
SRC003 = _rule("SRC003", ERROR, "Every URL is an absolute http(s) URL with a host, no whitespace and no embedded credentials.")
SRC004 = _rule("SRC004", WARNING, "No two sources have the same URL up to scheme, 'www.', a trailing slash or a fragment.")
SRC005 = _rule("SRC005", ERROR, "An archive_url points to a known web archive.")
SRC006 = _rule("SRC006", WARNING, "Every source is cited by an event or a figure.")
SRC007 = _rule("SRC007", WARNING, "Every actor takes part in an event or is referred to by another record.")
EVD001 = _rule("EVD001", ERROR, "A disputed event links at least one source with stance 'contradicts'.")
EVD002 = _rule("EVD002", ERROR, "evidence_status is the status the event's links derive: confirmed needs a supporting government source or supporting sources from two origins (original_outlet, else outlet; a page on a copy site that does not name its original has none); a contradicting source makes it disputed unless its note says 'Event stands:'; otherwise reported.")
EVD003 = _rule("EVD003", ERROR, "A link with stance 'contradicts' has a note saying what that source says differently.")
EVD004 = _rule("EVD004", WARNING, "Two sources of one event with near-identical titles have different origins: one is probably a copy of the other, which should name the outlet it copies in original_outlet.")
CIT001 = _rule("CIT001", ERROR, "Every source ID cited in brackets in free text ([so-...]) exists and, in an event's notes, summary, source notes or figures, is linked to that event.")
CIT002 = _rule("CIT002", WARNING, "A sentence in an event's notes or a link's note that names an outlet cites the source by ID in brackets ([so-...]).")
FIG001 = _rule("FIG001", ERROR, "No two figures repeat the same event, quantity, source and value.")
FIG002 = _rule("FIG002", ERROR, "The figures of one quantity of one event share metric and unit, so their values can be compared.")
SRC008 = _rule("SRC008", ERROR, "published_on is given unless published_on_basis is 'none', and is empty when it is; a date taken from the URL appears in the URL.")
SCOPE001 = _rule("SCOPE001", ERROR, "An event takes place in a scope country (schema/package.json: CN, HK, MO), or is a foreign_response, or a Chinese actor takes part in it.")
CHK001 = _rule("CHK001", ERROR, "A checklist entry is covered exactly when it names an event; an entry not covered says why (reason).")
HOST001 = _rule("HOST001", ERROR, "Every source's URL host (lowercase, without a leading 'www.' or trailing dot) is listed in schema/hosts.csv, itself or through its longest listed parent domain; the table writes hosts that way.")
HOST002 = _rule("HOST002", ERROR, "A source on an outlet_site or copy_site host gives the outlet that schema/hosts.csv names for that host (whose text it carries goes in original_outlet).")
HOST003 = _rule("HOST003", WARNING, "A source on a copy_site host names whose text it is (original_outlet): readers are told whose copy they are reading, and copies of one text count as one origin.")
HOST004 = _rule("HOST004", WARNING, "Every row of schema/hosts.csv covers the host of at least one source.")
KEY007 = _rule("KEY007", ERROR, "No ID ends on a function word ('of', 'for', 'and', ...), the mark of a slug cut off mid-phrase.")
TXT001 = _rule("TXT001", ERROR, "Text is in Unicode normal form NFC (fixed by `infocontrols fmt`).")
TXT002 = _rule("TXT002", ERROR, "Text has no control characters, bidirectional overrides or zero-width characters.")
TXT003 = _rule("TXT003", ERROR, "Text has no leading or trailing whitespace (fixed by `infocontrols fmt`).")
TXT004 = _rule("TXT004", ERROR, "No text cell starts with '=', '+', '-' or '@' (spreadsheet formula injection).")
ISO001 = _rule("ISO001", ERROR, "Country codes are valid ISO 3166-1 alpha-2 codes.")
ISO002 = _rule("ISO002", ERROR, "admin1 and jurisdiction codes are valid ISO 3166-2 codes of the row's country.")
ISO003 = _rule("ISO003", ERROR, "Language tags are valid BCP 47 tags.")
ORD001 = _rule("ORD001", ERROR, "Rows are sorted by the table's primary key (fixed by `infocontrols fmt`).")


def finding(rule: Rule, file: str, line: int, column: str, value: object, message: str) -> Finding:
    """Make a finding of ``rule`` with the rule's severity."""
    text = "" if value is None else str(value)
    return Finding(file, int(line), column, text, rule.id, rule.severity, message)
