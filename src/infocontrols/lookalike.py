"""Names that look the same but are written differently: full-width letters, a Cyrillic or
Greek letter in a Latin name, a dotless i, an accent.

`add` uses :func:`skeleton` so that "Tencеnt" (with a Cyrillic е) never becomes a second
actor beside "Tencent". The skeleton follows the idea of Unicode's confusable skeletons
(UTS #39) with a small table of the letters that matter for Latin names, so that it needs
no data file.

Example:
    >>> skeleton("Ｔｅｎｃｅｎｔ") == skeleton("Tencеnt") == skeleton("tencent")
    True
    >>> skeleton("Baıdu") == skeleton("Baidu")
    True
"""
from __future__ import annotations

import re
import unicodedata

# Letters of other scripts that render like a Latin letter (lowercase, after casefolding).
CONFUSABLE = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "х": "x",
    "с": "c", "ԁ": "d", "ԝ": "w", "ɡ": "g", "ԍ": "g", "ӡ": "3",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j",
    # Latin letters that pass for others
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ß": "ss",
})


def skeleton(text: str) -> str:
    """A form of ``text`` in which look-alike spellings of one name coincide.

    Compatibility forms (full-width, ligatures) are folded, case is folded, accents and
    invisible characters dropped, look-alike letters of other scripts mapped to Latin, and
    runs of whitespace collapsed.

    Example:
        >>> skeleton("  Cyberspace  Administration ")
        'cyberspace administration'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    mapped = unicodedata.normalize("NFC", kept).translate(CONFUSABLE)
    return re.sub(r"\s+", " ", mapped).strip()


def odd_characters(text: str) -> str:
    """The characters of ``text`` that are not plain ASCII, named, for an error message.

    Example:
        >>> odd_characters("Tencеnt")
        "'е' (CYRILLIC SMALL LETTER IE)"
    """
    seen = []
    for c in text:
        if ord(c) > 127 and c not in seen:
            seen.append(c)
    return ", ".join(f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})" for c in seen[:5])
