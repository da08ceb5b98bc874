"""The in-memory state of a pack store (pack_store.py): the index table, the packs it knows and
the open pack, shared by every PackChunkStore over one BlobStore in a process. Data only: the rules
that change it are the store's."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from envclone.archive.pack_index import ChunkTable
from envclone.archive.packs import PackBuilder
from envclone.blobs import BlobStore, BlobWriter


@dataclass
class Pack:
    key: str | None  # None while open, and once dropped
    created: float  # when sealed; while open, the last put into it (so ages err young)
    body: int = 0  # bytes of chunks it holds, garbage included
    live: int = 0  # bytes of the chunks the index points into it


class OpenPack:
    def __init__(self, number: int, open_writer: Callable[[], BlobWriter]) -> None:
        self.number = number
        self.builder = PackBuilder(open_writer)
        self.error: BaseException | None = None  # a write that failed: its seal fails with it
        # Where chunks put again into this pack were stored before: a full index written while
        # this pack is open names them there, so that a crash before the seal loses no chunk.
        self.replaced: dict[bytes, tuple[int, int, int]] = {}
        self.opened = time.monotonic()  # a pack open too long is sealed (pack_store.MAX_OPEN_SECONDS)


@dataclass
class PackState:
    """What every PackChunkStore over one BlobStore shares (``PackChunkStore.shared``). Holds no
    reference to the BlobStore, so that the registry forgets a store nobody uses."""

    lock: threading.Lock = field(default_factory=threading.Lock)  # the fields below
    # Held while a put writes into the open pack (outside ``lock``, so readers are not held up by
    # a slow upload) and by whoever closes the open pack: a pack is closed with no write pending.
    # Taken before ``lock``, after ``commit``.
    append: threading.Lock = field(default_factory=threading.Lock)
    commit: threading.Lock = field(default_factory=threading.Lock)  # sealing and index writes, in order
    table: ChunkTable = field(default_factory=ChunkTable)
    packs: list[Pack] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)  # pack id -> pack number
    open: OpenPack | None = None
    full: list[OpenPack] = field(default_factory=list)  # filled, waiting for the commit lock
    buffers: dict[int, OpenPack] = field(default_factory=dict)  # packs not yet stored, by number
    sealer: ThreadPoolExecutor | None = None  # stores filled packs while puts go on
    sealing: list[Future[None]] = field(default_factory=list)  # its work, whose errors sync() raises
    # Deletions not yet in an index blob, with the time (ns) each was decided at (pack_store.delete)
    deleted: dict[bytes, int] = field(default_factory=dict)
    index_keys: set[str] = field(default_factory=set)  # index blobs applied or written
    damaged: list[str] = field(default_factory=list)  # packs and index blobs that could not be read
    loaded: bool = False
    refreshed: float = 0.0
    has_legacy: bool = False
    marked: bool = False


_shared: weakref.WeakKeyDictionary[BlobStore, PackState] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared_state(blobs: BlobStore) -> PackState:
    with _shared_lock:
        try:
            return _shared.setdefault(blobs, PackState())
        except TypeError:  # a store that cannot be weakly referenced or hashed: a state of its own
            return PackState()
