"""How the EPM dialect authenticates a request, as Oracle's Migration API does: HTTP Basic or an
OAuth 2.0 bearer token. The schemes are api/credentials.py's; only the choice is made here."""

from __future__ import annotations

from envclone.api.credentials import BasicScheme, BearerScheme, authenticator

authenticated = authenticator(BasicScheme(), BearerScheme("bearer"))
