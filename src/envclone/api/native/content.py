"""The content resources of the native API: which path serves which services Resource, with
which request models."""

from __future__ import annotations

from envclone.api.native import schemas as s
from envclone.api.native.crud import Crud
from envclone.services import content_resources as c

CRUDS: tuple[Crud, ...] = (
    Crud("/users", c.USERS, s.UserCreate, s.User, s.UserUpdate, batch=True, tag="users"),
    Crud("/groups", c.GROUPS, s.GroupCreate, s.Group, s.GroupUpdate, batch=True, tag="users"),
    Crud("/groups/{group_name}/members", c.GROUP_MEMBERS, s.MemberCreate, s.Member, batch=True, tag="users"),
    Crud("/roles", c.ROLES, s.RoleCreate, s.Role, s.RoleUpdate, tag="users"),
    Crud("/role-assignments", c.ROLE_ASSIGNMENTS, s.AssignmentCreate, s.Assignment, batch=True, tag="users"),
    Crud("/projects", c.PROJECTS, s.ProjectCreate, s.Project, s.ProjectUpdate, tag="artifacts"),
    Crud(
        "/projects/{project_id}/objects",
        c.OBJECTS,
        s.ObjectCreate,
        s.MetadataObject,
        s.ObjectUpdate,
        batch=True,
        tag="artifacts",
    ),
    Crud(
        "/projects/{project_id}/profile-folders",
        c.PROFILE_FOLDERS,
        s.ProfileFolderCreate,
        s.ProfileFolder,
        s.ProfileFolderUpdate,
        batch=True,
        tag="artifacts",
    ),
    Crud(
        "/projects/{project_id}/subscriptions",
        c.SUBSCRIPTIONS,
        s.SubscriptionCreate,
        s.Subscription,
        s.SubscriptionUpdate,
        batch=True,
        tag="artifacts",
    ),
    Crud(
        "/configuration-objects",
        c.CONFIG_OBJECTS,
        s.ConfigObjectCreate,
        s.ConfigObject,
        s.ConfigObjectUpdate,
        batch=True,
        tag="configuration",
    ),
    Crud("/repositories", c.REPOSITORIES, s.RepositoryCreate, s.Repository, s.RepositoryUpdate, batch=True, tag="jobs"),
    Crud("/jobs", c.JOBS, s.JobCreate, s.Job, s.JobUpdate, batch=True, tag="jobs"),
)
