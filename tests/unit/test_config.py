"""The project's own settings (``arabtoday.config``): every ``ARABTODAY_*`` value validated, with
what it accepts; a misspelled name refused with a suggestion; the defaults Scrapy builds are the ones the
settings page says."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from arabtoday import settings as project_settings
from arabtoday.config import problems, scrapy_problems
from conftest import ROOT


def project(**overrides: str) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_the_project_defaults_are_valid() -> None:
    assert problems(project()) == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("ARABTODAY_NEAR_DUP_THRESHOLD", "2", "from 0.05 to 1"),
    ("ARABTODAY_INCREMENTAL", "maybe", "true or false"),
    ("ARABTODAY_MAX_QUEUED_REQUESTS", "lots", "a whole number"),
    ("ARABTODAY_FSYNC_EVERY", "0", "at least 1"),
    ("ARABTODAY_RETRY_BACKOFF_BASE", "nan", "a number"),
    ("ARABTODAY_REDIS_URL", "http://127.0.0.1:6379", "redis://"),
])
def test_a_bad_value_is_named_with_what_it_accepts(name: str, value: str, says: str) -> None:
    found = problems(project(**{name: value}))
    assert len(found) == 1
    assert found[0].startswith(f"{name}={value!r}") and says in found[0]


@pytest.mark.parametrize(("name", "value", "says"), [
    ("DOWNLOAD_DELAY", "abc", "a number"),
    ("RETRY_HTTP_CODES", "abc", "a list of whole numbers"),
    ("LOG_LEVEL", "LOUD", "a log level"),
    ("LOG_LEVEL", "warning", "in capitals"),
    ("LOG_LEVEL", "30", "a log level"),
    ("FEED_EXPORT_ENCODING", "nonsense", "a text encoding"),
])
def test_a_scrapy_setting_scrapy_would_fail_on_is_named(name: str, value: str, says: str) -> None:
    """Each of these ended a run in a traceback (or, for the encoding, was ignored) before: checked
    against what Scrapy and logging really accept, below."""
    [found] = scrapy_problems(project(**{name: value}))
    assert found.startswith(f"{name}={value!r}") and says in found


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "WARNING"), ("LOG_LEVEL", 30),
                                             ("RETRY_HTTP_CODES", "500,503"), ("FEED_EXPORT_ENCODING", "latin-1")])
def test_a_scrapy_setting_scrapy_accepts_passes(name: str, value: object) -> None:
    import logging

    assert scrapy_problems(project(**{name: value})) == []
    if name == "LOG_LEVEL":
        logging.getLogger("arabtoday.test").setLevel(value)  # what Scrapy's logging set-up does with it


def test_a_misspelled_name_is_refused_with_a_suggestion() -> None:
    found = problems(project(ARABTODAY_STAET_DIR="/tmp/x"))
    assert found == ["unknown setting ARABTODAY_STAET_DIR (did you mean ARABTODAY_STATE_DIR?)"]


def documented_settings() -> dict[str, str]:
    """``{name: default as written}`` of the settings table in docs/running.md, read from the page."""
    page = (ROOT / "docs" / "running.md").read_text("utf-8")
    table = page.split("<!-- settings-table:begin -->", 1)[1].split("<!-- settings-table:end -->", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| `ARABTODAY_")]
    return {row[0].removeprefix("| ").strip("`"): row[1].strip() for row in rows}


def test_what_scrapy_builds_is_what_the_settings_page_says() -> None:
    """Every ``ARABTODAY_*`` setting the project has, as Scrapy's own ``get_project_settings`` builds it
    (what ``scrapy crawl`` reads), against the default written on docs/running.md: neither may change
    without the other."""
    documented = documented_settings()
    built = get_project_settings()
    assert set(documented) == {name for name in built.attributes if name.startswith("ARABTODAY_")}
    for name, written in documented.items():
        value = built.get(name)
        shown = "unset" if value is None else f"`{value}`"
        assert written == shown or written.replace(" ", "") == shown.replace(" ", ""), (name, written, shown)
