"""The state's rules shared by every backend (``arabtoday.state.store``): what needs fetching again."""

from __future__ import annotations

import pytest

from arabtoday.state.store import Seen, Status, should_fetch


@pytest.mark.parametrize(("seen", "lastmod", "fetch"), [
    (None, None, True),
    (Seen(Status.FAILED, None, None), None, True),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), "2017-10-01T00:00:00Z", False),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), None, False),
    # an edit stamped earlier than our last fetch is still an edit: only the site's own stamps are compared
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z", "2026-01-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    # found on a listing last time (no lastmod recorded): the sitemap's stamp is news, fetch once
    (Seen(Status.EMITTED, "h", None, "2026-01-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    (Seen(Status.DUPLICATE, "h", "2017-10-01T00:00:00Z"), "2017-10-01T00:00:00Z", False),
])
def test_should_fetch(seen: Seen | None, lastmod: str | None, fetch: bool) -> None:
    assert should_fetch(seen, lastmod)[0] is fetch
