"""What a failed Microsoft 365 sync raises: always a UserError whose text says what failed and
that nothing was changed, never a Graph payload, a token or a secret."""

from __future__ import annotations

from bot.errors import UserError


class M365Error(UserError):
    """The sync failed and wrote nothing. str() is one line saying what failed."""


class SyncRejected(M365Error):
    """Graph holds records that cannot be mapped, so nothing was synced. Names every one."""

    SHOWN = 20

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        lines = [f"  {problem}" for problem in problems[: self.SHOWN]]
        if count > self.SHOWN:
            lines.append(f"  … and {count - self.SHOWN} more")
        super().__init__(
            "\n".join(
                [
                    f"The roster was not synced from Microsoft 365 ({count} record"
                    f"{'s' if count != 1 else ''} that SSP Bot cannot use; nothing was changed):",
                    *lines,
                ]
            )
        )

    @property
    def one_line(self) -> str:
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{len(self.problems)} record(s) that cannot be used: {first}{more}"


def first_line(text: str, limit: int = 300) -> str:
    """The first line of a message from Microsoft, cut to `limit` characters."""
    line = text.strip().replace("\r", "\n").split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
