"""The CLI shows the server's progress as it is (the native ``progress``): the phase, its bytes and
the time remaining only when the server gives one; it computes nothing of its own."""

from __future__ import annotations

from envclone.cli._epm_client import progress_detail


def test_phase_bytes_and_time_remaining_as_the_server_gives_them() -> None:
    progress = {"phase": "transfer", "bytes_done": 1_500_000, "bytes_total": 3_000_000, "seconds_remaining": 75}
    assert progress_detail(progress) == "transfer  1.5 MB/3.0 MB  ETA 1:15"


def test_nothing_shown_that_the_server_does_not_know() -> None:
    assert progress_detail({"phase": None, "bytes_done": 0, "bytes_total": 0, "seconds_remaining": None}) == ""
    assert progress_detail({"phase": "compare", "seconds_remaining": 0}) == "compare  ETA 0:00"


def test_bytes_of_an_earlier_phase_are_not_shown_as_the_running_ones() -> None:
    progress = {"phase": "apply", "bytes_phase": "transfer", "bytes_done": 10, "bytes_total": 10}
    assert progress_detail(progress) == "apply"
