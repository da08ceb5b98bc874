"""What a duplication operation is given: its persisted params, one type for the service that
submits it and the handler that runs it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from envclone.domain.duplication import DuplicationSettings, Hex32, Role, Side, derived_project_id


class DuplicationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dup_id: Hex32 | None = None  # None: the operation's own id (a side started here)
    role: Role
    source: dict[str, Any]  # the request's source side as JSON (a restoration: the package's)
    target: dict[str, Any]
    settings: dict[str, Any]  # DuplicationSettings as JSON (camelCase), defaults filled
    target_project_id: Hex32 | None = None  # the id the new project gets (LOCAL and TARGET)
    storage: str | None = None  # the storage service folder or s3:// URL (never a key), across environments
    manifest_id: str | None = None  # a restoration: the uploaded package's archive, already here

    def resolved(self, op_id: str) -> DuplicationParams:
        """With the duplication id and the new project's id filled in."""
        dup_id = (self.dup_id or op_id).upper()
        project_id = self.target_project_id or derived_project_id(dup_id)
        return self.model_copy(update={"dup_id": dup_id, "target_project_id": project_id.upper()})

    def parsed_settings(self) -> DuplicationSettings:
        return DuplicationSettings.model_validate(self.settings, strict=False)

    def target_side(self) -> Side:
        return Side.model_validate(self.target, strict=False)
