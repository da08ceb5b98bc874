"""Counts what makes an OpenAPI document too weak to test against: path parameters not declared
or declared without a bound (a pattern, an enumeration, a length or a maximum), POST/PUT/PATCH
without a request body, success responses that are a bare object, operations with
no 4xx response. Run as ``python -m tests.openapi_audit URL-or-file [--list]``; test_openapi.py
holds every count at 0."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx

METHODS = ("get", "post", "put", "patch", "delete")
# Operations that take no body at all: their input is the path, the query or a credential header.
BODILESS = {
    "POST /v1/auth/revoke": "revokes the bearer token it is called with",
    "POST /v1/operations/{op_id}/cancel": "the operation is named by the path",
    "POST /v1/backups/{name}/verify": "the backup is named by the path",
    "POST /v1/store/verify": "verifies the whole live store",
    "POST /v1/transfer/apply/{op_id}/cancel": "the apply is named by the path",
    "POST /v1/jobs/{uid}/run": "the job is named by the path",
    "POST /v1/jobs/{uid}/stop": "the job is named by the path",
    "PUT /interop/rest/{api_version}/services/dailymaintenance": "EPM takes the start time as a query parameter",
    "POST /interop/rest/{api_version}/services/maintenancewindow": "EPM takes skipNext as a query parameter",
    "POST /MicroStrategyLibrary/api/auth/logout": "ends the session named by X-MSTR-AuthToken",
    "PUT /MicroStrategyLibrary/api/sessions": "extends the session named by X-MSTR-AuthToken",
    "POST /api/sessionMngr/": "Veeam logs in with the Basic Authorization header",
}
GAPS = (
    "undeclared path parameters",
    "unbounded path parameters",
    "write without request body",
    "bare success response",
    "no 4xx response",
)
BOUNDS = {"pattern", "enum", "maxLength", "maximum"}


def _bare(schema: dict[str, Any] | None) -> bool:
    """No schema, ``{}`` or an object that names no property and types none of its values:
    nothing a response could break."""
    if not schema:
        return True
    typed_values = isinstance(schema.get("additionalProperties"), dict) and schema["additionalProperties"]
    named = schema.get("properties") or "$ref" in schema
    return schema.get("type") == "object" and not named and not typed_values


def gaps(document: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {gap: [] for gap in GAPS}
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}:]+)", path))
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            key = f"{method.upper()} {path}"
            parameters = operation.get("parameters", []) + item.get("parameters", [])
            declared = {p["name"] for p in parameters if p.get("in") == "path" and p.get("schema")}
            if names - declared:
                found["undeclared path parameters"].append(key)
            for p in parameters:
                if p.get("in") == "path" and p.get("schema") and not BOUNDS & set(p["schema"]):
                    found["unbounded path parameters"].append(f"{key} {p['name']}")
            if method in ("post", "put", "patch") and "requestBody" not in operation and key not in BODILESS:
                found["write without request body"].append(key)
            responses: dict[str, Any] = operation.get("responses", {})
            for status, response in responses.items():
                content = response.get("content") or {}
                if status.startswith("2") and any(_bare(media.get("schema")) for media in content.values()):
                    found["bare success response"].append(f"{key} {status}")
            if not any(status.startswith("4") for status in responses):
                found["no 4xx response"].append(key)
    return found


def main(argv: list[str]) -> int:
    source = argv[0]
    if source.startswith("http"):
        document = httpx.get(source.rstrip("/") + "/openapi.json", timeout=30).json()
    else:
        document = json.loads(Path(source).read_text())
    operations = sum(1 for item in document["paths"].values() for m in METHODS if m in item)
    print(f"{operations} operations")
    for gap, keys in gaps(document).items():
        print(f"{len(keys):4d} {gap}")
        if "--list" in argv:
            print("".join(f"       {key}\n" for key in keys), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
