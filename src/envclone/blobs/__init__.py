"""Blob storage: opaque byte objects under string keys. Knows nothing of what the bytes mean."""

from envclone.blobs.local import LocalBlobStore
from envclone.blobs.store import BlobStore, BlobWriter, open_blob_store

__all__ = ["BlobStore", "BlobWriter", "LocalBlobStore", "open_blob_store"]
