"""Inbox and outbox files of the seed content, with their bytes made on demand. Each size adds its
own layer of files (names numbered on from the layer below), so a smaller size's files are exactly
files of a larger size, byte for byte."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from envclone.demodata.sizes import COUNTS, SIZES, MiB, Size, layers, split
from envclone.demodata.streams import Streams
from envclone.demodata.vocabulary import ATTRIBUTES, FACTS, REGIONS
from envclone.domain.files import FileArea

BLOCK = MiB
_TEXT = bytes(b"0123456789;,.-\n \nABCDEFGH"[i % 25] for i in range(256))


@dataclass(frozen=True)
class SeedFile:
    """One inbox or outbox file; its bytes are made on demand, one block at a time."""

    area: str
    name: str
    size: int
    content_seed: str

    @property
    def modified(self) -> dt.datetime:
        """A fixed modification time, so that seeded environments agree on it too."""
        offset = int.from_bytes(self.content_seed.encode()[-4:], "big") % (365 * 24 * 3600)
        return dt.datetime(2026, 1, 1) + dt.timedelta(seconds=offset)

    def chunks(self) -> Iterator[bytes]:
        """Deterministic content in blocks of at most 1 MiB: CSV-like lines (compressible) for text
        files, random bytes for archives, and a mix of both for logs."""
        rng = random.Random(f"envclone-seed-file:{self.content_seed}")
        suffix = self.name.rsplit(".", 1)[-1]
        text_share = {"csv": 1.0, "txt": 1.0, "log": 0.6}.get(suffix, 0.0)
        lines = [
            f"{rng.choice(REGIONS)};{rng.choice(ATTRIBUTES)};{rng.choice(FACTS)};{rng.randint(1, 12):02d};"
            f"{rng.uniform(-1e6, 1e6):.2f}\n".encode()
            for _ in range(min(2048, max(1, self.size // 64)))
        ]
        left = self.size
        while left > 0:
            n = min(BLOCK, left)
            if rng.random() < text_share:
                block = b"".join(rng.choices(lines, k=n // 40 + 1))[:n]
                block += rng.randbytes(n - len(block)).translate(_TEXT)
            else:
                block = rng.randbytes(n)
            left -= n
            yield block


def seed_files(streams: Streams, size: Size) -> Iterator[SeedFile]:
    """Every file of ``size``: the layer of each size up to it, each layer holding the bytes that
    its size adds, spread over its files with a long tail (a few large files, many small ones)."""
    for level, first, count in layers(size, lambda c: c.files):
        below = COUNTS[SIZES[level - 1]].file_bytes if level else 0
        total = COUNTS[SIZES[level]].file_bytes - below
        rng = streams.rng("files", *([level] if level else []))
        floor = min(1024, total // count)
        weights = [rng.lognormvariate(0, 1.2) for _ in range(count)]
        sizes = [floor + part for part in split(total - floor * count, weights)]
        for i, file_size in enumerate(sizes, start=first):
            yield _seed_file(rng, streams.seed, i, file_size)


def _seed_file(rng: random.Random, seed: int, i: int, size: int) -> SeedFile:
    area = FileArea.INBOX.value if i % 3 else FileArea.OUTBOX.value
    region, period = rng.choice(REGIONS), f"{rng.choice(('Jan', 'Apr', 'Jul', 'Oct'))}{rng.randint(22, 25)}"
    name = rng.choice(
        (
            f"{region}_GL_Actuals_{period}_{i:04d}.csv",
            f"Rates_{period}_{i:04d}.txt",
            f"Metadata_{rng.choice(ATTRIBUTES)}_{i:04d}.zip",
        )
        if area == FileArea.INBOX
        else (
            f"Artifact Snapshot {period} {i:04d}.zip",
            f"DataLoad_{5000 + i}.log",
            f"ExportData_{region}_{i:04d}.csv",
        )
    )
    return SeedFile(area=area, name=name, size=size, content_seed=f"{seed}:file:{i}")
