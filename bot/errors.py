"""Errors whose message is meant for the person at the keyboard, not for a log."""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked cannot be done. str() is a complete, polite explanation.

    `block_id` names the form field the explanation belongs beside, when there is one.
    """

    def __init__(self, message: str = "", *, block_id: str | None = None) -> None:
        super().__init__(message)
        self.block_id = block_id
