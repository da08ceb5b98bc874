"""Named random streams: each part of the seed content draws from its own stream, derived from the
seed and the part's name, so that no part depends on which others were generated, or in what order."""

from __future__ import annotations

import random
import uuid


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(["envclone-seed", str(self.seed), *map(str, parts)]))


def hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032X}"


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
