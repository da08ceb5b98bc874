"""Client for another envclone server's native API (used by the CLI and, later, by clone).
Never logs credentials."""

from envclone.peer.client import PeerClient, PeerError

__all__ = ["PeerClient", "PeerError"]
