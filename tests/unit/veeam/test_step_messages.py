"""The job clone's and the job run's steps are localized in every catalog, as every other kind's."""

from __future__ import annotations

import pytest

from envclone.domain import job_clone, job_run
from envclone.locales import available_locales, translator_for


@pytest.mark.parametrize("key", job_clone.STEPS + job_run.STEPS)
def test_every_step_is_translated(key: str) -> None:
    locales = [loc for loc in available_locales() if loc != "en"]
    assert locales
    for locale in locales:
        assert translator_for(locale)(key) != key, (locale, key)
    assert translator_for("en")(key) == key
