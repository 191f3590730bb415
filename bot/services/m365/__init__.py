"""The roster from Microsoft 365: staff, pupils and classes read from Microsoft Graph.

School Data Sync copies the MIS into Graph's education endpoints; `sspbot sync m365` reads them
with an app-only token and makes the school's roster match, through the same upsert path as
the CSV import: natural keys, leavers marked as left, nothing ever deleted. The package follows
the sync's steps:

- `sign_in`: msal's confidential client (a client secret or a certificate) and its token cache;
- `graph`: the Graph client (paging, throttling, errors) and reading the education roster,
  only its changes when the last sync's delta links still work;
- `mapping`: Graph's users and classes as roster records (how each field maps is there);
- `sync`: applying them all or nothing, the dry run, the state kept for the next sync, the
  status at the foot of `/ssp caseload`, and the nightly run.

What callers use is importable from here.
"""

from bot.services.m365.errors import M365Error, SyncRejected
from bot.services.m365.graph import GRAPH_URL, USER_SELECT, Graph
from bot.services.m365.sign_in import Credentials, TokenSource, forget_sign_ins
from bot.services.m365.sync import (
    NightlySync,
    SyncResult,
    SyncStatus,
    sync_is_due,
    sync_m365,
    sync_status,
)

__all__ = [
    "GRAPH_URL",
    "USER_SELECT",
    "Credentials",
    "Graph",
    "M365Error",
    "NightlySync",
    "SyncRejected",
    "SyncResult",
    "SyncStatus",
    "TokenSource",
    "forget_sign_ins",
    "sync_is_due",
    "sync_m365",
    "sync_status",
]
