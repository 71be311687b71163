"""Text normalisation shared by extraction, cleaning and deduplication.

The SPEC allows exactly two changes to the text of a page: Unicode NFC and
whitespace folding (entities are already decoded by the HTML parser). Arabic
letters, diacritics, tatweel and digits are kept as written. Matching helpers
(``fold_for_match``) are separate and never leak into records.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Every Unicode space separator, tabs/newlines, and the no-break spaces the old
# CMS pasted as &nbsp;. Zero-width joiners are *not* whitespace: they are part
# of how some words are written.
_WS = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufeff]")
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # harakat, superscript alef, tatweel
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str | None) -> str:
    """NFC, control characters removed, whitespace folded to single spaces, trimmed."""
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", _WS.sub(" ", text)).strip()


def fold_for_match(text: str) -> str:
    """A lossy key for *comparing* text (never for output): lowercase, Arabic
    letter variants and marks folded, Arabic-Indic digits to ASCII."""
    text = _ARABIC_MARKS.sub("", normalize(text).lower())
    return text.translate(_ALEF).translate(_ARABIC_DIGITS)


def to_ascii_digits(text: str) -> str:
    return text.translate(_ARABIC_DIGITS)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def content_hash(body: str) -> str:
    """Hash of the normalised body: punctuation, case and Arabic letter variants
    do not count, so a republished copy that only re-typed quotes matches."""
    key = " ".join(words(fold_for_match(body)))
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()
