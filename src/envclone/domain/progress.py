"""Progress as one model for every operation and every surface: the phases that take time (each
kind declares them with weights beside its steps), the measured fraction of the current one, the
overall percent and the estimated end. Pure: the clock is passed in; the engine's recorder
advances it, dialects only render ``ProgressView``."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RUNNING_CAP = 99.9  # never 100 before the operation has succeeded
ETA_MIN_PERCENT = 2.0  # before this much has moved, an estimate would be a guess: none is given
ETA_MIN_SECONDS = 2.0
INSTANT_SECONDS = 0.5  # a phase done quicker than this (or skipped) says nothing about the pace


@dataclass(frozen=True)
class Phase:
    """A part of an operation that takes time. ``step``: the step it belongs to (it starts with
    the step's first phase and is done when the step ends); None for a phase a handler enters
    itself after its steps (a report)."""

    key: str
    weight: float
    step: str | None = None


def step_phase(step: str, weight: float) -> Phase:
    """A step that is one phase, named as the step."""
    return Phase(step, weight, step)


def phases_of_steps(steps: Sequence[str]) -> tuple[Phase, ...]:
    """The default for a kind that declares none: every step one phase of equal weight."""
    return tuple(step_phase(s, 1.0) for s in steps)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass
class Progress:
    """What is stored with the operation. ``bytes_*``/``items_*``: what the latest phase that
    counted bytes (items) has done of its total, e.g. a clone's transfer while the target applies
    (``bytes_phase`` names it);
    ``percent`` is over the whole operation and never goes down; ``eta`` is the estimated end,
    never later than an earlier estimate (once it has passed, the estimate was wrong and none is
    shown again)."""

    bytes_done: int = 0
    bytes_total: int = 0
    items_done: int = 0
    items_total: int = 0
    percent: float = 0.0
    phase: str | None = None
    phase_started: dt.datetime | None = None
    bytes_phase: str | None = None
    bytes_started: dt.datetime | None = None
    eta: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "items_done": self.items_done,
            "items_total": self.items_total,
            "percent": self.percent,
            "phase": self.phase,
            "phase_started": _iso(self.phase_started),
            "bytes_phase": self.bytes_phase,
            "bytes_started": _iso(self.bytes_started),
            "eta": _iso(self.eta),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Progress:
        data = data or {}
        return cls(
            bytes_done=int(data.get("bytes_done", 0)),
            bytes_total=int(data.get("bytes_total", 0)),
            items_done=int(data.get("items_done", 0)),
            items_total=int(data.get("items_total", 0)),
            percent=float(data.get("percent", 0.0)),
            phase=data.get("phase"),
            phase_started=_parse(data.get("phase_started")),
            bytes_phase=data.get("bytes_phase"),
            bytes_started=_parse(data.get("bytes_started")),
            eta=_parse(data.get("eta")),
        )


@dataclass(frozen=True)
class ProgressView:
    """What every surface shows (native ``progress``, the CLI, the next dialects' progress fields)."""

    percent: float  # 0-100, one decimal; 100.0 exactly when, and only when, the operation succeeded
    phase: str | None
    bytes_phase: str | None  # the phase the bytes are of
    bytes_done: int
    bytes_total: int
    items_done: int
    items_total: int
    bytes_per_second: float | None  # of the phase the bytes are of, while it runs (or the last one)
    seconds_remaining: int | None  # non-increasing; None when unknown, finished, or the estimate ran out

    def to_json(self) -> dict[str, Any]:
        return {
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "items_done": self.items_done,
            "items_total": self.items_total,
            "percent": self.percent,
            "phase": self.phase,
            "bytes_phase": self.bytes_phase,
            "bytes_per_second": round(self.bytes_per_second) if self.bytes_per_second is not None else None,
            "seconds_remaining": self.seconds_remaining,
        }


def view(
    progress: Progress, *, succeeded: bool, finished: bool, ended: dt.datetime | None, now: dt.datetime
) -> ProgressView:
    percent = 100.0 if succeeded else min(round(progress.percent, 1), RUNNING_CAP)
    remaining: int | None = None
    if not finished and progress.eta is not None and progress.eta > now:
        remaining = math.ceil((progress.eta - now).total_seconds())
    rate: float | None = None
    if progress.bytes_started is not None and progress.bytes_done and progress.bytes_phase == progress.phase:
        elapsed = ((ended or now) - progress.bytes_started).total_seconds()
        rate = progress.bytes_done / elapsed if elapsed > 0 else None
    return ProgressView(
        percent=percent,
        phase=progress.phase,
        bytes_phase=progress.bytes_phase,
        bytes_done=progress.bytes_done,
        bytes_total=progress.bytes_total,
        items_done=progress.items_done,
        items_total=progress.items_total,
        bytes_per_second=rate,
        seconds_remaining=remaining,
    )


class Tracker:
    """Moves one operation's Progress through its phases. Entering a phase counts every earlier
    one as done (whether it ran, was skipped or is not applicable); a step that ends counts its
    phases as done. Not thread-safe: the recorder serializes calls."""

    def __init__(self, phases: Sequence[Phase], progress: Progress, started: dt.datetime | None) -> None:
        self.phases = tuple(phases)
        self.progress = progress
        self.started = started
        self._total = sum(p.weight for p in self.phases)
        self._index = {p.key: i for i, p in enumerate(self.phases)}
        self._done: set[str] = set()
        self._entered: dict[str, dt.datetime] = {}
        self._instant = 0.0  # the weight of phases that were done at once: left out of the pace
        self._current: int | None = self._index.get(progress.phase) if progress.phase else None
        if self._current is not None:
            self._done.update(p.key for p in self.phases[: self._current])
        self._fraction: float | None = None  # set when another party measures the phase (a target)
        # The current phase's own counts; Progress shows them once the phase counts anything.
        self._bytes = [0, 0]
        self._items = [0, 0]

    def _finish(self, phases: Sequence[Phase], now: dt.datetime) -> None:
        for phase in phases:
            if phase.key in self._done:
                continue
            self._done.add(phase.key)
            entered = self._entered.get(phase.key)
            if entered is None or (now - entered).total_seconds() < INSTANT_SECONDS:
                self._instant += phase.weight

    # -- phases and steps -------------------------------------------------------------------------
    def enter(self, key: str, now: dt.datetime) -> None:
        """A phase the kind does not declare is ignored: progress never fails an operation."""
        index = self._index.get(key)
        if index is None:
            return
        self._finish(self.phases[:index], now)
        self._current, self._fraction = index, None
        self._entered[key] = now
        self._bytes, self._items = [0, 0], [0, 0]
        self.progress.phase, self.progress.phase_started = key, now
        self.update(now)

    def start_step(self, step: str, now: dt.datetime) -> None:
        mine = [p for p in self.phases if p.step == step]
        current = self.phases[self._current] if self._current is not None else None
        if mine and current not in mine:
            self.enter(mine[0].key, now)

    def finish_step(self, step: str, now: dt.datetime) -> None:
        self._finish([p for p in self.phases if p.step == step], now)
        self.update(now)

    # -- measuring the current phase ---------------------------------------------------------------
    def plan(self, *, bytes_total: int | None, items_total: int | None, now: dt.datetime) -> None:
        if bytes_total:
            self._bytes[1] = bytes_total
            self._show()
        if items_total:
            self._items[1] = items_total
            self._show()
        self.update(now)

    def advance(self, *, nbytes: int, items: int, now: dt.datetime) -> None:
        # A total that was an estimate is never shown below what has been done.
        for counts, n in ((self._bytes, nbytes), (self._items, items)):
            counts[0] += n
            if counts[1]:
                counts[1] = max(counts[1], counts[0])
        if nbytes or items:
            self._show()
        self.update(now)

    def _show(self) -> None:
        p = self.progress
        if self._bytes != [0, 0]:
            p.bytes_done, p.bytes_total = self._bytes
            p.bytes_phase, p.bytes_started = p.phase, p.phase_started
        if self._items != [0, 0]:
            p.items_done, p.items_total = self._items

    def measured(self, fraction: float, now: dt.datetime) -> None:
        if not math.isfinite(fraction):
            return
        self._fraction = min(max(fraction, 0.0), 1.0)
        self.update(now)

    def fraction(self) -> float:
        """Of the current phase: as measured by another party, else its bytes, else its items."""
        if self._fraction is not None:
            return self._fraction
        for done, total in (self._bytes, self._items):
            if total:
                return min(1.0, done / total)
        return 0.0

    # -- the whole ---------------------------------------------------------------------------------
    def update(self, now: dt.datetime) -> None:
        if not self._total:
            return
        done = sum(p.weight for p in self.phases if p.key in self._done)
        if self._current is not None and self.phases[self._current].key not in self._done:
            done += self.phases[self._current].weight * self.fraction()
        p = self.progress
        p.percent = max(p.percent, min(100.0 * done / self._total, RUNNING_CAP))
        self._estimate(now)

    def _estimate(self, now: dt.datetime) -> None:
        """At the average pace since the start, counting only what took time (a skipped phase
        would make the pace look faster than it is); an estimate only ever moves the end earlier."""
        p = self.progress
        paced = p.percent - 100.0 * self._instant / self._total
        if self.started is None or paced < ETA_MIN_PERCENT:
            return
        elapsed = (now - self.started).total_seconds()
        if elapsed < ETA_MIN_SECONDS:
            return
        end = now + dt.timedelta(seconds=elapsed * (100.0 - p.percent) / paced)
        p.eta = end if p.eta is None else min(p.eta, end)

    def succeeded(self) -> None:
        self.progress.percent = 100.0
        self.progress.eta = None
