"""Blob storage: opaque byte objects under string keys. Knows nothing of what the bytes mean."""

# S3BlobStore (envclone.blobs.s3) is not re-exported: importing boto3 takes over a second, paid
# only by a server whose blob store URL is s3:// (open_blob_store imports it then).
from envclone.blobs.local import LocalBlobStore
from envclone.blobs.store import BlobStore, BlobWriter, open_blob_store

__all__ = ["BlobStore", "BlobWriter", "LocalBlobStore", "open_blob_store"]
