"""The project's own settings (``arabtoday.config``): every ``ARABTODAY_*`` value validated, with
what it accepts; a misspelled name refused with a suggestion; the defaults are the table's."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from arabtoday import settings as project_settings
from arabtoday.config import BY_NAME, SETTINGS, markdown, problems


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


def test_a_misspelled_name_is_refused_with_a_suggestion() -> None:
    found = problems(project(ARABTODAY_STAET_DIR="/tmp/x"))
    assert found == ["unknown setting ARABTODAY_STAET_DIR (did you mean ARABTODAY_STATE_DIR?)"]


def test_settings_take_their_defaults_from_the_table_and_the_readme_lists_them() -> None:
    settings = project()
    for spec in SETTINGS:
        assert settings.get(spec.name) == spec.default, spec.name
    table = markdown()
    assert all(f"`{name}`" in table for name in BY_NAME)
