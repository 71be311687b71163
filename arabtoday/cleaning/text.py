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

# Control characters (not tab/newline: whitespace, folded below) and the BOM.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# For matching only: hamza/alef variants, alef maqsura and taa marbuta folded;
# harakat, superscript alef and tatweel dropped; Arabic-Indic digits to ASCII.
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
    **dict.fromkeys(map(chr, [*range(0x064B, 0x0660), 0x0670, 0x0640])),
    **{chr(k): chr(v) for k, v in _ARABIC_DIGITS.items()},
})
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str | None) -> str:
    """NFC, control characters removed, whitespace folded to single spaces, trimmed.

    ``str.split()`` splits on every Unicode whitespace (tabs, newlines, the
    no-break spaces the old CMS pasted as &nbsp;, U+2000..U+200A, U+3000...);
    zero-width joiners are not whitespace: they are part of how words are written.
    """
    if not text:
        return ""
    if _CONTROL.search(text):  # rare: scanning is cheap, substituting is not
        text = _CONTROL.sub("", text)
    text = " ".join(text.split())
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def fold_for_match(text: str) -> str:
    """A lossy key for *comparing* text (never for output): lowercase, Arabic
    letter variants and marks folded, Arabic-Indic digits to ASCII."""
    return normalize(text).lower().translate(_FOLD)


def to_ascii_digits(text: str) -> str:
    return text.translate(_ARABIC_DIGITS)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def content_hash(body: str) -> str:
    """Hash of the normalised body: punctuation, case and Arabic letter variants
    do not count, so a republished copy that only re-typed quotes matches."""
    return _hash(words(fold_for_match(body)))


def _hash(folded_words: list[str]) -> str:
    return hashlib.blake2b(" ".join(folded_words).encode("utf-8"), digest_size=16).hexdigest()


def count_and_hash(body: str) -> tuple[int, str]:
    """``(word_count(body), content_hash(body))`` of a body made of normalised
    paragraphs, in as few passes as the text allows: its normalisation is not
    repeated (whitespace does not count in either), and ASCII text (where
    folding is lowercasing, which moves no word boundary) is split into words
    once for both."""
    lowered = body.lower()
    if body.isascii():
        tokens = words(lowered)
        return len(tokens), _hash(tokens)
    return word_count(body), _hash(words(lowered.translate(_FOLD)))
