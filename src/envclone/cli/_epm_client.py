"""The HTTP side of the EPM Automate style commands: calls to a server's EPM endpoints (and the
native operation and verify endpoints for detail), errors carrying the server's text and an exit
code, and waiting for a job with a Rich progress display. Credentials never appear in output."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.filesize import decimal
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

if TYPE_CHECKING:  # imported when a command calls a server: ``envclone serve`` never does
    import httpx

EPM = "/interop/rest"
POLL_SECONDS = 0.5
TERMINAL = {"succeeded", "failed", "cancelled"}
_EXIT_BY_STATUS = {400: 2, 413: 2, 422: 2, 401: 3, 403: 3, 404: 4, 409: 5}

console = Console()
errors = Console(stderr=True)


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message, self.exit_code = message, exit_code


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message"))
    if isinstance(body, dict) and body.get("details"):
        return str(body["details"])
    return response.text[:500]


class EpmClient:
    def __init__(self, url: str, user: str, password: str, *, timeout: float = 120.0) -> None:
        if not url:
            raise CommandError("the server URL is required: pass --url or set ENVCLONE_URL", 2)
        self.url = url.rstrip("/")
        import httpx

        self._transport_error = httpx.TransportError
        self._http = httpx.Client(base_url=self.url, auth=httpx.BasicAuth(user, password), timeout=timeout)

    def __enter__(self) -> EpmClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except self._transport_error as exc:
            raise CommandError(f"cannot reach {self.url}: {type(exc).__name__}") from None
        if not response.is_success:
            raise CommandError(_message(response), _EXIT_BY_STATUS.get(response.status_code, 1))
        return response.json() if response.content else None

    def epm(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, EPM + path, **kwargs)

    # -- jobs -------------------------------------------------------------------------------------
    def wait(self, number: int, title: str) -> dict[str, Any]:
        """Poll the operation until it ends, showing the server's progress as it is: the step, the
        percent over the whole operation, the bytes of the phase that counts them, and the time
        remaining only when the server gives one (nothing is computed here)."""
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
        )
        with Progress(*columns, console=errors, transient=False) as progress:
            task = progress.add_task(title, total=100, detail="")
            while True:
                op = self.call("GET", f"/v1/operations/{number}")
                p = op.get("progress") or {}
                progress.update(
                    task,
                    description=escape(_current_step(op) or title),
                    completed=float(p.get("percent") or 0),
                    detail=escape(progress_detail(p)),
                )
                if op["status"] in TERMINAL:
                    return dict(op)
                time.sleep(POLL_SECONDS)


def job_number(body: dict[str, Any]) -> int:
    """The job id from an EPM response's Job Status link (its last path segment)."""
    for link in body.get("links") or []:
        tail = str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1]
        if tail.isdigit():
            return int(tail)
    raise CommandError("the server's response has no job status link")


def _current_step(op: dict[str, Any]) -> str | None:
    steps = op.get("steps") or []
    running = [s for s in steps if s.get("result") == "inProgress"]
    return str((running or [{}])[0].get("message") or "") or None


def progress_detail(p: dict[str, Any]) -> str:
    """The phase, its bytes and the time remaining, as the native ``progress`` has them."""
    parts = [str(p["phase"])] if p.get("phase") else []
    if p.get("bytes_total") and p.get("bytes_phase", p.get("phase")) == p.get("phase"):
        parts.append(f"{decimal(int(p.get('bytes_done') or 0))}/{decimal(int(p['bytes_total']))}")
    remaining = p.get("seconds_remaining")
    if remaining is not None:
        parts.append(f"ETA {_duration(remaining)}")
    return "  ".join(parts)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def report(op: dict[str, Any], command: str) -> bool:
    """The final line: success, or the failure with each failed step's details."""
    if op["status"] == "succeeded":
        console.print(f"[green]{escape(command)} completed successfully[/]")
        return True
    error = op.get("error") or {}
    message = escape(str(error.get("message") or op["status"]))
    console.print(f"[red]{escape(command)} failed:[/] {message}", soft_wrap=True)
    for step in op.get("steps") or []:
        if step.get("result") == "failed" and step.get("details"):
            console.print(f"  {escape(str(step.get('message')))}: {escape(str(step['details']))}", soft_wrap=True)
    return False
