"""Sealing: secrets that must outlive a request (a clone's target password, a storage service's
secret key) are kept encrypted at rest, never in clear in the database. AES-256-GCM with a key
derived from the server's secret key; each sealed value is bound to the context it was sealed for
(say ``operation:<id>``), so a value copied onto another row does not open there.

The key comes from ``ENVCLONE_SECRET_KEY`` (every process of a scaled-out deployment must share
it), else from a key file (``<data dir>/sealing.key`` by default) made on first start, readable
by its owner only. A process without either (tests) seals with a key of its own that dies with it."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from envclone.errors import ConfigError, EnvcloneError

_VERSION = b"s1"
_NONCE = 12
_KDF_CONTEXT = "envclone 2026-12-02 sealing key v1"
MIN_KEY_CHARS = 32


class SealBroken(EnvcloneError, code="seal_broken"):
    """A sealed value does not open: another server's key, a changed key, or a damaged value."""


class Sealer:
    def __init__(self, key_material: bytes) -> None:
        if len(key_material) < MIN_KEY_CHARS:
            raise ConfigError(f"the secret key must be at least {MIN_KEY_CHARS} characters long")
        # A key derivation, not the material itself: a passphrase-like key still gives 32 random-looking bytes.
        self._aead = AESGCM(blake3.blake3(key_material, derive_key_context=_KDF_CONTEXT).digest())

    @classmethod
    def ephemeral(cls) -> Sealer:
        """A key of this process only: what it seals cannot be opened after a restart."""
        return cls(secrets.token_bytes(32) * 2)

    @classmethod
    def from_key_file(cls, path: Path) -> Sealer:
        """The key in ``path``, made (random, owner-only) if the file does not exist yet."""
        try:
            return cls(path.read_bytes().strip())
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ConfigError(f"the secret key file {path} cannot be read: {exc.strerror}") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32))
        try:
            # O_EXCL: two processes starting at once on one data folder agree on the first key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(path.read_bytes().strip())
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
        return cls(key)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, *, context: str) -> bytes:
        if len(sealed) < len(_VERSION) + _NONCE or not sealed.startswith(_VERSION):
            raise SealBroken("a sealed secret is not in a form this server knows")
        nonce, body = sealed[len(_VERSION) : len(_VERSION) + _NONCE], sealed[len(_VERSION) + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SealBroken(
                "a sealed secret does not open with this server's secret key (was the key changed?)"
            ) from None

    def seal_json(self, value: Any, *, context: str) -> bytes:
        return self.seal(json.dumps(value, separators=(",", ":")).encode(), context=context)

    def unseal_json(self, sealed: bytes, *, context: str) -> Any:
        return json.loads(self.unseal(sealed, context=context))
