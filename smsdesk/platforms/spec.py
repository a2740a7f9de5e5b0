"""What a platform package declares (its ``SPEC``), and what its catch-up poller returns."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from smsdesk.enums import Platform
from smsdesk.events import Event
from smsdesk.platforms.http import Credentials


@dataclass(frozen=True)
class Change:
    """One change the platform's API reports (an order as it stands after an update).

    ``key`` names the change (the order and its update time), so reading it again, in an
    overlapping poll or a later one, records it once.
    """

    key: str
    changed_at: datetime
    events: list[Event]


@dataclass(frozen=True)
class Polled:
    """What one poll read: the changes in (since, until], oldest first, and ``complete`` False
    when it stopped at its page limit (the next poll goes on from the last change read)."""

    changes: list[Change]
    complete: bool = True


# poll(client, since, until, country) -> Polled: the orders changed in (since, until], as events.
Poller = Callable[[Any, datetime, datetime, str], Polled]
# fetch(client, payload, country) -> events: the details a thin webhook (BigCommerce) only names.
Fetcher = Callable[[Any, dict, str], list[Event]]


@dataclass(frozen=True)
class PlatformSpec:
    """Everything smsdesk does with one platform, found from its registry entry.

    ``mapping``: the module that turns its payloads into normalized events (the webhook adapter
    in webhooks/ and the poller use it). ``client``: builds its API client from a store's
    credentials; ``has_credentials`` says whether a store gave enough to call it.
    ``privacy_topics``: the platform's own privacy webhooks (erasure and export for every
    platform are services/privacy.py, from the CLI and the API).
    """

    platform: Platform
    mapping: ModuleType
    client: Callable[[Credentials], Any] | None = None
    has_credentials: Callable[[Credentials], bool] = field(default=lambda credentials: False)
    poll: Poller | None = None
    fetch: Fetcher | None = None
    privacy_topics: tuple[str, ...] = ()
