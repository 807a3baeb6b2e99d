"""Permanent IDs: a typed prefix and a short slug of meaningful words.

IDs are frozen once published, so they are made well the first time: a few content
words of the title, never cut off in the middle of a phrase and never ending on a
function word ("…-credit-system-for" is the kind of ID this module exists to prevent).

Example:
    >>> event_slug("Jinan introduces 12-point credit system for dog owners")
    'jinan-introduces-12-point-credit-system'
    >>> ends_on_function_word("ev-2017-01-01-jinan-credit-system-for")
    True
"""
from __future__ import annotations

import re
import unicodedata

# Words that carry no meaning on their own in an English title. An ID slug drops them,
# and a slug may never end on one.
FUNCTION_WORDS = frozenset(
    """a an the of for to in on at by with from and or nor but as its it is are was were be been
    into onto over under after before about amid during ahead against than that this these those
    their his her via s who whom which while new per""".split()
)
MAX_WORDS = 6
MAX_CHARS = 44


def words(text: str) -> list[str]:
    """Lowercase ASCII words of ``text``; a possessive "'s" joins its word (people's -> peoples).

    Example:
        >>> words("People's Daily brands Honor of Kings a 'poison'")
        ['peoples', 'daily', 'brands', 'honor', 'of', 'kings', 'a', 'poison']
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    ascii_text = re.sub(r"(\w)['’]s\b", r"\1s", ascii_text)
    return re.findall(r"[a-z0-9]+", ascii_text)


def content_slug(text: str, max_words: int = MAX_WORDS, max_chars: int = MAX_CHARS) -> str:
    """A slug of the first content words of ``text``: no function words, at most
    ``max_words`` words and ``max_chars`` characters, cut only between words.

    Example:
        >>> content_slug("MIIT launches 14-month clean-up of internet access market")
        'miit-launches-14-month-clean-up'
    """
    kept: list[str] = []
    for word in words(text):
        if word in FUNCTION_WORDS:
            continue
        if len(kept) >= max_words or len("-".join([*kept, word])) > max_chars:
            break
        kept.append(word)
    return "-".join(kept)


def event_slug(title: str) -> str:
    """The slug part of a new event ID (the importer prefixes ``ev-`` and the date)."""
    return content_slug(title)


def ends_on_function_word(identifier: str) -> bool:
    """True when the last word of an ID is a function word (a sign it was cut off).

    Example:
        >>> ends_on_function_word("ev-2018-11-14-cac-summons-self-media-platforms")
        False
    """
    last = identifier.rsplit("-", 1)[-1]
    return last in FUNCTION_WORDS


__all__ = ["FUNCTION_WORDS", "words", "content_slug", "event_slug", "ends_on_function_word"]
