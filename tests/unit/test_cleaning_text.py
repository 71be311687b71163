"""Text folding (``arabtoday.cleaning.text``): NFC and whitespace only for output; the content hash
ignores case, punctuation and letter variants."""

from __future__ import annotations

from arabtoday.cleaning.text import content_hash, normalize


def test_normalize_folds_whitespace_and_nfc_only() -> None:
    assert normalize("  a\u00a0\u00a0b\n\tc  ") == "a b c"
    assert normalize("e\u0301") == "\u00e9"  # NFC
    arabic = "العَرَبِيَّة ـ ١٢٣"  # diacritics, tatweel and Arabic-Indic digits stay as written
    assert normalize(arabic) == arabic


def test_content_hash_ignores_case_punctuation_and_letter_variants() -> None:
    assert content_hash('He said "no".') == content_hash("he said no")
    assert content_hash("أكتوبر") == content_hash("اكتوبر")
    assert content_hash("one text") != content_hash("another text")
