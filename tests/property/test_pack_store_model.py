"""Hypothesis: PackChunkStore against a dict model, over random sequences of put, delete, sync,
compact and reopen (a new process over the same directory, the unsynced state of the old one lost
as in a crash). What was synced must survive a reopen exactly; what was not may or may not."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from envclone.archive import PackChunkStore, chunk_id, compact_packs
from envclone.archive.compress import compression, encode
from envclone.blobs import LocalBlobStore

KEYS = 4
CONTENT = [bytes([n]) * (900 + 500 * n) for n in range(KEYS)]
IDS = [chunk_id(c) for c in CONTENT]
BLOBS = [encode(c, compression("none")) for c in CONTENT]
UNKNOWN = None  # in ``durable``: may or may not survive a reopen


class PackStoreModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="packmodel-"))
        self.target = 3000  # a few chunks a pack: puts seal packs on their own too
        self.chunks = self._open()
        self.present: set[int] = set()  # what the live store must show
        self.durable: dict[int, bool | None] = dict.fromkeys(range(KEYS), False)

    def _open(self) -> PackChunkStore:
        return PackChunkStore(LocalBlobStore(self.tmp / "blobs"), target_size=self.target)

    def teardown(self) -> None:
        self._stop_sealer()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _stop_sealer(self) -> None:
        sealer = self.chunks._st.sealer
        if sealer is not None:
            sealer.shutdown(wait=True)

    @rule(key=st.integers(0, KEYS - 1), sync=st.booleans())
    def put(self, key: int, sync: bool) -> None:
        self.chunks.put(IDS[key], BLOBS[key], sync=sync)
        self.present.add(key)
        if sync:
            self._all_durable()
        elif self.durable[key] is not True:
            self.durable[key] = UNKNOWN

    @rule(key=st.integers(0, KEYS - 1))
    def delete(self, key: int) -> None:
        self.chunks.delete(IDS[key])
        self.present.discard(key)
        if self.durable[key] is not False:
            self.durable[key] = UNKNOWN

    @rule()
    def sync(self) -> None:
        self.chunks.sync()
        self._all_durable()

    @rule(ratio=st.sampled_from([0.0, 0.3, 0.9]))
    def compact(self, ratio: float) -> None:
        compact_packs(self.chunks, repack_ratio=ratio, grace_seconds=0)
        self._all_durable()

    @rule()
    def reopen(self) -> None:
        # A crash ends the old process: a pack its background sealer was storing is stored by now
        # or never (here: by now). Left running, it would write after the new store has loaded.
        self._stop_sealer()
        self.chunks = self._open()
        seen = {key for key in range(KEYS) if self.chunks.exists(IDS[key])}
        for key, durable in self.durable.items():
            if durable is not UNKNOWN:
                assert (key in seen) == durable, (key, durable)
        self.present = seen
        self._all_durable()

    def _all_durable(self) -> None:
        self.durable = {key: key in self.present for key in range(KEYS)}

    @invariant()
    def matches_the_model(self) -> None:
        assert sorted(self.chunks.ids()) == sorted(IDS[key] for key in self.present)
        for key in range(KEYS):
            assert self.chunks.exists(IDS[key]) == (key in self.present)
            if key in self.present:
                assert self.chunks.get(IDS[key]) == BLOBS[key]
                assert self.chunks.size(IDS[key]) == len(BLOBS[key])


PackStoreModel.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestPackStoreModel = PackStoreModel.TestCase
