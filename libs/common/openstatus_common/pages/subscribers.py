"""Email subscriptions to a status page: double opt-in, confirmation and one-click unsubscribe.

The API (operators adding subscribers) and the status-page service (visitors subscribing, following the
links in their mails) share these functions. They flush, never commit; the caller owns the transaction.

Addresses are matched without regard to case (the domain is stored lowercased, the local part as given).
A subscriber is *pending* (``accepted_at`` unset), *active* (accepted) or *unsubscribed* (``unsubscribed_at``
set). Subscribing a pending address again asks for confirmation again; subscribing an unsubscribed address
re-activates its row as pending (or active when ``confirmed``) with a new token, so links from old mails stop
working. The token is the secret in both the confirm and the unsubscribe link.

:func:`subscribe` stages its ``subscriber.pending`` event in the session's outbox itself; the caller
publishes the returned events after the commit (``openstatus_common.outbox.publish_staged``), and the
notifier mails the confirmation link.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from openstatus_common.db.base import utcnow
from openstatus_common.db.models import PageSubscriber, StatusPage
from openstatus_common.errors import InvalidArgument, NotFound
from openstatus_common.messages import Event, EventKind
from openstatus_common.outbox import stage

MAX_EMAIL = 320
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalize_email(email: str, *, field: str = "email") -> str:
    """``email`` trimmed, with its domain lowercased; InvalidArgument naming ``field`` if it is not one.

    A simple check, not full RFC 5322: an unquoted local part of the usual characters and a domain with
    at least two labels.
    """
    value = email.strip()
    local, at, domain = value.rpartition("@")
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    valid = (
        at
        and len(value) <= MAX_EMAIL
        and _LOCAL.match(local)
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        raise InvalidArgument(f"{field}: {email!r} is not a valid email address", field=field)
    return f"{local}@{domain}"


def email_domain_allowed(email: str, domains: Sequence[str]) -> bool:
    """Whether the address's domain is one of ``domains`` (exact match, case-insensitive; a leading ``@`` or
    trailing dot in a configured domain is ignored). Subdomains are not included: ``acme.com`` does not
    admit ``eu.acme.com``. The rule of email-domain pages, for signing in and for their subscribers."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    allowed = {d.strip().lower().lstrip("@").rstrip(".") for d in domains}
    return bool(domain) and domain in allowed


def status_of(subscriber: PageSubscriber) -> str:
    """``pending``, ``active`` or ``unsubscribed``."""
    if subscriber.unsubscribed_at is not None:
        return "unsubscribed"
    return "active" if subscriber.accepted_at is not None else "pending"


RESEND_CONFIRMATION_AFTER = timedelta(minutes=10)


def _pending_event(subscriber: PageSubscriber, workspace_id: int) -> Event:
    return Event(
        event_id=f"{EventKind.SUBSCRIBER_PENDING.value}:{subscriber.id}:{uuid.uuid4().hex}",
        kind=EventKind.SUBSCRIBER_PENDING,
        occurred_at=utcnow(),
        workspace_id=workspace_id,
        data={"page_id": subscriber.page_id, "subscriber_id": subscriber.id},
    )


async def subscribe(
    session: AsyncSession, page_id: int, email: str, *, confirmed: bool
) -> tuple[PageSubscriber, list[Event]]:
    """Subscribe ``email`` to the page: pending with a ``subscriber.pending`` event, or active at once when
    ``confirmed``. An already active subscriber is returned unchanged, with no event."""
    address = normalize_email(email)
    workspace_id = (
        await session.execute(select(StatusPage.workspace_id).where(StatusPage.id == page_id))
    ).scalar_one_or_none()
    if workspace_id is None:
        raise NotFound(f"page {page_id} not found", field="pageId")
    # Local parts are case-sensitive on paper, never in practice: one person, one subscription.
    subscriber = (
        await session.execute(
            select(PageSubscriber)
            .where(PageSubscriber.page_id == page_id, func.lower(PageSubscriber.email) == address.lower())
            .order_by(PageSubscriber.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    now = utcnow()
    if subscriber is None:
        subscriber = PageSubscriber(page_id=page_id, email=address, token=new_token())
        session.add(subscriber)
    elif subscriber.unsubscribed_at is not None:
        subscriber.unsubscribed_at = None
        subscriber.accepted_at = None
        subscriber.token = new_token()
    elif subscriber.accepted_at is not None:
        return subscriber, []
    elif not confirmed:
        # Still pending: whoever lost the mail asks again and gets a new link (the old one stops working).
        # Each wait is at least as long as the request is old (10 min, 20, 40, ...), so the form cannot be
        # used to flood an inbox: a handful of mails on the first day, then fewer and fewer.
        wait = max(RESEND_CONFIRMATION_AFTER, subscriber.updated_at - subscriber.created_at)
        if now - subscriber.updated_at < wait:
            return subscriber, []
        subscriber.token = new_token()
    if confirmed:
        subscriber.accepted_at = now
    subscriber.updated_at = now
    await session.flush()
    if confirmed:
        return subscriber, []
    events = [_pending_event(subscriber, workspace_id)]
    stage(session, events)
    return subscriber, events


async def by_token(session: AsyncSession, token: str) -> PageSubscriber | None:
    """The subscriber the token belongs to (whatever their state); None for an unknown token."""
    if not token or len(token) > 128:
        return None
    return (
        await session.execute(select(PageSubscriber).where(PageSubscriber.token == token))
    ).scalar_one_or_none()


async def confirm(session: AsyncSession, token: str) -> PageSubscriber | None:
    """Accept the subscription the token belongs to; None for an unknown token or an unsubscribed address.
    Confirming twice keeps the first ``accepted_at``."""
    subscriber = await by_token(session, token)
    if subscriber is None or subscriber.unsubscribed_at is not None:
        return None
    if subscriber.accepted_at is None:
        subscriber.accepted_at = subscriber.updated_at = utcnow()
        await session.flush()
    return subscriber


async def unsubscribe(session: AsyncSession, subscriber: PageSubscriber) -> None:
    """Stop mailing the subscriber (idempotent: the first ``unsubscribed_at`` is kept)."""
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = subscriber.updated_at = utcnow()
        await session.flush()


async def unsubscribe_by_token(session: AsyncSession, token: str) -> PageSubscriber | None:
    """Unsubscribe whoever the token belongs to; None for an unknown token."""
    subscriber = await by_token(session, token)
    if subscriber is not None:
        await unsubscribe(session, subscriber)
    return subscriber
