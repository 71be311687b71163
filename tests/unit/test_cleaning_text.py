"""Text folding (``arabtoday.cleaning.text``): NFC and whitespace only for output; the content hash
ignores case, punctuation and letter variants."""

from __future__ import annotations

import pytest

from arabtoday.cleaning.text import content_hash, count_and_hash, normalize, word_count


def test_normalize_folds_whitespace_and_nfc_only() -> None:
    assert normalize("  a\u00a0\u00a0b\n\tc  ") == "a b c"
    assert normalize("e\u0301") == "\u00e9"  # NFC
    arabic = "العَرَبِيَّة ـ ١٢٣"  # diacritics, tatweel and Arabic-Indic digits stay as written
    assert normalize(arabic) == arabic


def test_content_hash_ignores_case_punctuation_and_letter_variants() -> None:
    assert content_hash('He said "no".') == content_hash("he said no")
    assert content_hash("أكتوبر") == content_hash("اكتوبر")
    assert content_hash("one text") != content_hash("another text")


@pytest.mark.parametrize("body", [
    'He said "no".\n\nThe İstanbul office re-opened_at 9:30, e.g. «today».',
    "Plain ASCII body.\n\nSecond paragraph with MIXED case and digits 2024.",
    "العَرَبِيَّة ـ ١٢٣ أكتوبر\n\nكَتَبَ الوزيرُ إلى الأمم المتحدة.",
    "Beirut - AFP\n\nالعرب اليوم: text with both scripts, ١٢ and 12.",
])
def test_count_and_hash_is_word_count_and_content_hash_in_fewer_passes(body: str) -> None:
    assert count_and_hash(body) == (word_count(body), content_hash(body))
