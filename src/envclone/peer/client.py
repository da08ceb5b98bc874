"""A small synchronous client for the native API over httpx. Errors from the server come back as
PeerError carrying the server's code and message; credentials are kept out of reprs and errors."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from envclone.domain.components import Component
from envclone.domain.transfer import (
    RECEIPT_HEADER,
    ApplyAccepted,
    ApplyRequest,
    ApplyStatus,
    ChunksStored,
    ChunkStored,
    ComponentIndex,
    ManifestStored,
    MissingRequest,
    MissingResponse,
    PeerEnvironment,
    PeerIdentity,
    encode_chunks,
)

RETRIES = 4

if TYPE_CHECKING:  # httpx (with its command line: rich, pygments) is imported by a clone only
    import httpx


class PeerError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{message} ({code}, HTTP {status})")


class PeerClient:
    def __init__(self, url: str, user: str, password: str, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        import httpx

        self._transport_error = httpx.TransportError
        self._http = httpx.Client(base_url=self.url, auth=httpx.BasicAuth(user, password), timeout=timeout)

    def __repr__(self) -> str:
        return f"PeerClient({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        response.read()
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        raise PeerError(
            response.status_code, error.get("code", "http_error"), error.get("message", response.text[:200])
        )

    def request(self, method: str, path: str, *, retry: bool = False, **kwargs: Any) -> Any:
        """One call; with ``retry`` (idempotent calls only) dropped connections are retried with
        backoff, so a transfer resumes where it was."""
        attempts = RETRIES if retry else 1
        for attempt in range(attempts):
            try:
                response = self._check(self._http.request(method, path, **kwargs))
                break
            except self._transport_error as exc:
                if attempt + 1 == attempts:
                    raise PeerError(0, "unreachable", f"cannot reach {self.url}: {type(exc).__name__}") from None
                time.sleep(0.5 * 2**attempt)
        if response.content and response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def upload(self, path: str, chunks: Iterable[bytes]) -> Any:
        return self.request("PUT", path, content=chunks, headers={"content-type": "application/octet-stream"})

    def download(self, path: str) -> Iterator[bytes]:
        with self._http.stream("GET", path) as response:
            self._check(response)
            yield from response.iter_bytes()

    def digest(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/v1/environment/digest", retry=True)
        return result

    # -- what a cloning source asks of its target (the peer protocol, domain.transfer) -----------
    def whoami(self) -> PeerIdentity:
        return PeerIdentity.model_validate(self.request("GET", "/v1/auth/whoami", retry=True))

    def environment(self) -> PeerEnvironment:
        return PeerEnvironment.model_validate(self.request("GET", "/v1/environment", retry=True))

    def missing(self, ids: list[str]) -> list[str]:
        body = MissingRequest(ids=ids).model_dump(mode="json")
        return MissingResponse.model_validate(
            self.request("POST", "/v1/transfer/missing", json=body, retry=True)
        ).missing

    def put_chunk(self, chunk_id: str, size: int, blob: bytes) -> ChunkStored:
        result = self.request(
            "PUT",
            f"/v1/transfer/chunks/{chunk_id}",
            params={"size": size},
            content=blob,
            retry=True,
            headers={"content-type": "application/octet-stream"},
        )
        return ChunkStored.model_validate(result)

    def put_chunks(self, items: list[tuple[str, int, bytes]]) -> ChunksStored:
        """Several chunks in one request; PeerError 404 or 405 from a target that predates it."""
        result = self.request(
            "POST",
            "/v1/transfer/chunks",
            content=encode_chunks(items),
            retry=True,
            headers={"content-type": "application/octet-stream"},
        )
        stored = ChunksStored.model_validate(result)
        if stored.received != len(items):
            raise PeerError(0, "incomplete", f"{self.url} received {stored.received} of {len(items)} chunks")
        return stored

    def put_manifest(self, blob: bytes) -> ManifestStored:
        result = self.request(
            "PUT",
            "/v1/transfer/manifests",
            content=blob,
            retry=True,
            headers={"content-type": "application/octet-stream"},
        )
        return ManifestStored.model_validate(result)

    def apply(self, body: ApplyRequest) -> ApplyAccepted:
        result = self.request("POST", "/v1/transfer/apply", json=body.model_dump(mode="json"))
        return ApplyAccepted.model_validate(result)

    def apply_status(self, op_id: str, receipt: str) -> ApplyStatus:
        result = self.request("GET", f"/v1/transfer/apply/{op_id}", headers={RECEIPT_HEADER: receipt}, retry=True)
        return ApplyStatus.model_validate(result)

    def cancel_apply(self, op_id: str, receipt: str) -> ApplyStatus:
        """Ask the target to stop its apply: accepted (it will end cancelled, unchanged) or a 409
        PeerError once it has passed its point of no return or ended. Not retried: a lost answer
        is read from the apply's status."""
        result = self.request("POST", f"/v1/transfer/apply/{op_id}/cancel", headers={RECEIPT_HEADER: receipt})
        return ApplyStatus.model_validate(result)

    def apply_report(self, op_id: str, receipt: str) -> bytes:
        response = self._check(self._http.get(f"/v1/transfer/apply/{op_id}/report", headers={RECEIPT_HEADER: receipt}))
        return response.content

    def index(self, component: Component) -> dict[str, str]:
        found = ComponentIndex.model_validate(self.request("GET", f"/v1/transfer/index/{component.value}", retry=True))
        return found.index

    def operation(self, op_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/v1/operations/{op_id}", retry=True)
        return result
