"""The content resources of the native API: which path serves which services Resource, with
which request models."""

from __future__ import annotations

from envclone.api.native import schemas as s
from envclone.api.native.crud import Crud
from envclone.services import content_resources as c

CRUDS: tuple[Crud, ...] = (
    Crud("/users", c.USERS, s.UserCreate, s.UserUpdate, batch=True, tag="users"),
    Crud("/groups", c.GROUPS, s.GroupCreate, s.GroupUpdate, batch=True, tag="users"),
    Crud("/groups/{group_name}/members", c.GROUP_MEMBERS, s.MemberCreate, batch=True, tag="users"),
    Crud("/roles", c.ROLES, s.RoleCreate, s.RoleUpdate, tag="users"),
    Crud("/role-assignments", c.ROLE_ASSIGNMENTS, s.AssignmentCreate, batch=True, tag="users"),
    Crud("/projects", c.PROJECTS, s.ProjectCreate, s.ProjectUpdate, tag="artifacts"),
    Crud("/projects/{project_id}/objects", c.OBJECTS, s.ObjectCreate, s.ObjectUpdate, batch=True, tag="artifacts"),
    Crud(
        "/projects/{project_id}/profile-folders",
        c.PROFILE_FOLDERS,
        s.ProfileFolderCreate,
        s.ProfileFolderUpdate,
        batch=True,
        tag="artifacts",
    ),
    Crud(
        "/projects/{project_id}/subscriptions",
        c.SUBSCRIPTIONS,
        s.SubscriptionCreate,
        s.SubscriptionUpdate,
        batch=True,
        tag="artifacts",
    ),
    Crud(
        "/configuration-objects",
        c.CONFIG_OBJECTS,
        s.ConfigObjectCreate,
        s.ConfigObjectUpdate,
        batch=True,
        tag="configuration",
    ),
    Crud("/repositories", c.REPOSITORIES, s.RepositoryCreate, s.RepositoryUpdate, batch=True, tag="jobs"),
    Crud("/jobs", c.JOBS, s.JobCreate, s.JobUpdate, batch=True, tag="jobs"),
)
