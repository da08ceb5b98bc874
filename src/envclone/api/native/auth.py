"""How the native API authenticates a request: HTTP Basic or an OAuth 2.0 bearer token from
POST /v1/auth/token. The schemes are api/credentials.py's; only the choice is made here."""

from __future__ import annotations

from envclone.api.credentials import BasicScheme, BearerScheme, authenticator

authenticated = authenticator(BasicScheme(), BearerScheme("bearer"))
