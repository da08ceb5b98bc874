"""Which ChunkStore holds a BlobStore's chunks: one blob per chunk (every store so far) or pack
files. A store that holds packs says so in a marker blob, written before its first pack, and is
read as packs from then on; a store without one takes the process default (packs unless the
server's settings ask for blobs). Chooses only: reads and writes no chunk."""

from __future__ import annotations

import threading
import time
import weakref
from enum import StrEnum

from envclone.archive.chunk_store import BlobChunkStore, ChunkStore
from envclone.archive.errors import UnknownAlgorithm
from envclone.archive.pack_store import PackChunkStore
from envclone.archive.packs import LAYOUT_KEY, LAYOUT_PACKS
from envclone.blobs import BlobStore
from envclone.errors import NotFound


class ChunkLayout(StrEnum):
    BLOBS = "blobs"
    PACKS = "packs"


_default = ChunkLayout.PACKS
# Layout per store, and when it was read. Packs are for good, so that answer is kept; "blobs" is
# read again after a while, because another process sharing the store may move it to packs (and
# its next maintenance moves the chunks out of their blobs, where this one would look for them).
_known: weakref.WeakKeyDictionary[BlobStore, tuple[ChunkLayout, float]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_RECHECK_BLOBS_SECONDS = 10.0


def set_default_layout(layout: ChunkLayout | str) -> None:
    """The layout of stores that hold no marker yet (the ``chunk_layout`` setting)."""
    global _default
    _default = ChunkLayout(layout)
    with _lock:
        _known.clear()


def default_layout() -> ChunkLayout:
    return _default


def _marked(blobs: BlobStore) -> ChunkLayout | None:
    try:
        marker = blobs.get(LAYOUT_KEY)
    except NotFound:
        return None
    if marker != LAYOUT_PACKS:
        raise UnknownAlgorithm(f"unknown chunk layout {marker[:40]!r} in {LAYOUT_KEY}")
    return ChunkLayout.PACKS


def layout_of(blobs: BlobStore) -> ChunkLayout:
    try:
        with _lock:
            known = _known.get(blobs)
    except TypeError:  # not weakly referenceable: asked every time
        known = None
    if known is not None and (known[0] is ChunkLayout.PACKS or time.monotonic() - known[1] < _RECHECK_BLOBS_SECONDS):
        return known[0]
    layout = _marked(blobs) or _default
    _remember(blobs, layout)
    return layout


def _remember(blobs: BlobStore, layout: ChunkLayout) -> None:
    try:
        with _lock:
            _known[blobs] = (layout, time.monotonic())
    except TypeError:
        pass


def use_layout(blobs: BlobStore, layout: ChunkLayout | str) -> ChunkLayout:
    """Make ``blobs`` use ``layout`` if it can, and return the layout it uses: a store of blobs
    moves to packs (its chunks stay readable where they are), a store of packs stays one."""
    current = _marked(blobs)
    if current is None and ChunkLayout(layout) is ChunkLayout.PACKS:
        blobs.put(LAYOUT_KEY, LAYOUT_PACKS)
        current = ChunkLayout.PACKS
    result = current or ChunkLayout.BLOBS
    _remember(blobs, result)
    return result


def chunks_of(blobs: BlobStore) -> ChunkStore:
    """The ChunkStore holding the chunks of the archives in ``blobs``; for packs, the one shared by
    every caller in this process (one index, one open pack)."""
    if layout_of(blobs) is ChunkLayout.PACKS:
        return PackChunkStore.shared(blobs)
    return BlobChunkStore(blobs)
