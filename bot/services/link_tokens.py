"""The secret in a link someone opens in a browser: a families' page (bot.services.family) or a
staff download (bot.services.download_links). The token is given once and never stored; only
its SHA-256 is kept, so a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()
