"""Why a request failed (``arabtoday.run.failures``): a response cut short is told from a whole page."""

from __future__ import annotations

import pytest

from arabtoday.run.failures import looks_cut


@pytest.mark.parametrize(("body", "cut"), [
    (b"<html><body><p>All of it.</p></body></html>\n", False),
    (b"<html><body><p>All of it.</p></BODY>", False),
    (b"<html><body><table><tr><td><font>Old page</font></td></tr></table>", False),  # omits its end tags
    (b"<html><body><p>Half a senten", True),
    (b"<html><body><p>Half a sentence.</p><div cla", True),
    (b"", True),
])
def test_looks_cut(body: bytes, cut: bool) -> None:
    assert looks_cut(body) is cut
