"""Errors whose message is meant for the person at the keyboard, not for a log."""


class UserError(Exception):
    """Something the user asked cannot be done. str() is a complete, polite explanation."""
