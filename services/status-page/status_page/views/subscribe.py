"""Email subscriptions from the page: subscribe (double opt-in), the confirm link and the unsubscribe link.

``subscribe`` is gated like the page (only its viewers may subscribe), limited per client address and refuses
posts from other sites. On an ``email-domain`` page only addresses of the page's domains may subscribe (the
same rule as signing in; the notifier skips subscribers whose domain the page has dropped since).

The links from the mails are not gated: the token in them is the secret, and whoever holds it may leave even
a page they can no longer see. Following a link (GET) never changes anything: mail scanners open links before
people do, and would otherwise confirm subscriptions nobody asked for (or end them). It shows a button that
posts back to the same address; the POST does it. The confirm POST must come from the page itself (same
origin, like every form); the unsubscribe POST need not: it is also the RFC 8058 one-click unsubscribe mail
clients send from the ``List-Unsubscribe`` header, from their own origin.

The same "check your inbox" answer is given whether the address was new, pending or already subscribed, so
the form does not tell who subscribes to a page.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import PageSubscriber
from openstatus_common.errors import InvalidArgument, NotFound
from openstatus_common.messages import Event
from openstatus_common.outbox import publish_staged
from openstatus_common.pages import subscribers
from openstatus_common.service import NotReady
from status_page import access
from status_page.context import PageRequest
from status_page.views.common import plain_html

log = structlog.get_logger(__name__)

TOKEN_PATTERN = r"(?P<token>[A-Za-z0-9_-]{1,128})"  # noqa: S105 (a regex, not a secret)


class _NotThisPage(Exception):
    """A token of another page's subscriber: roll back and answer as for an unknown token."""


def _result(pr: PageRequest, message: str, *, status_code: int = 200, **values: object) -> Response:
    response = plain_html(pr, "subscribe_result.html", status_code=status_code, message=message, **values)
    response.headers.update(access.SECRET_URL_HEADERS)
    return response


async def subscribe(pr: PageRequest) -> Response:
    access.require_same_origin(pr.request)
    if not access.limiter(pr, "subscribe", access.SUBSCRIBES_PER_WINDOW).hit(
        f"{pr.page_id}:{access.visitor(pr)}"
    ):
        log.info("page.subscribe_limited", page_id=pr.page_id)
        response = _result(pr, pr.t("login.too_many"), status_code=429)
        response.headers["Retry-After"] = str(int(access.RATE_WINDOW_SECONDS))
        return response
    form = await access.read_form(pr.request)
    raw = form.get("email", "")
    try:
        email = subscribers.normalize_email(raw)
    except InvalidArgument:
        return _result(pr, pr.t("subscribe.bad_email"), status_code=400, email=raw, retry=True)
    page = pr.snapshot.page
    if page.access_type == "email-domain" and not subscribers.email_domain_allowed(
        email, page.auth_email_domains
    ):
        log.info("page.subscribe_bad_domain", page_id=pr.page_id)
        return _result(pr, pr.t("login.bad_domain"), status_code=403, email=raw, retry=True)
    try:
        async with unit_of_work(pr.pages.ctx.sessions) as session:
            # Stages its subscriber.pending event in this transaction's outbox.
            subscriber, events = await subscribers.subscribe(session, pr.page_id, email, confirmed=False)
            subscriber_id = subscriber.id
    except NotFound:
        return _result(pr, pr.t("not_found"), status_code=404)
    await _publish(pr, events)
    log.info("page.subscribed", page_id=pr.page_id, subscriber_id=subscriber_id, pending=bool(events))
    return _result(pr, pr.t("subscribe.sent"))


async def _publish(pr: PageRequest, events: list[Event]) -> None:
    if not events:
        return
    try:
        bus = pr.pages.ctx.bus
    except NotReady:
        log.warning("page.subscriber_event_deferred", page_id=pr.page_id)  # the outbox sweep publishes it
        return
    await publish_staged(bus, pr.pages.ctx.sessions, events)


async def _by_token(pr: PageRequest, action: str) -> PageSubscriber | None:
    token = pr.params.get("token", "")
    try:
        async with unit_of_work(pr.pages.ctx.sessions) as session:
            found = await _apply(session, action, token)
            if found is not None and found.page_id != pr.page_id:
                raise _NotThisPage
            return found
    except _NotThisPage:
        return None


async def _apply(session: AsyncSession, action: str, token: str) -> PageSubscriber | None:
    if action == "confirm":
        return await subscribers.confirm(session, token)
    return await subscribers.unsubscribe_by_token(session, token)


async def _link_works(pr: PageRequest, action: str) -> bool:
    """Whether the link's POST would act (a read only: a GET changes nothing)."""
    async with pr.pages.ctx.sessions() as session:
        found = await subscribers.by_token(session, pr.params.get("token", ""))
    if found is None or found.page_id != pr.page_id:
        return False
    return action != "confirm" or found.unsubscribed_at is None


async def _ask(pr: PageRequest, action: str) -> Response:
    """GET: the button that does it, posting back to this address."""
    if not await _link_works(pr, action):
        return _result(pr, pr.t("subscribe.invalid"), status_code=404)
    return _result(
        pr,
        pr.t(f"subscribe.{action}_prompt"),
        action_url=pr.url(pr.path),
        action_label=pr.t(f"subscribe.{action}_button"),
    )


async def confirm(pr: PageRequest) -> Response:
    """GET from the link in the confirmation mail: a button; its POST (from this page only) confirms."""
    if pr.request.method != "POST":
        return await _ask(pr, "confirm")
    access.require_same_origin(pr.request)
    subscriber = await _by_token(pr, "confirm")
    if subscriber is None:
        return _result(pr, pr.t("subscribe.invalid"), status_code=404)
    log.info("page.subscription_confirmed", page_id=pr.page_id, subscriber_id=subscriber.id)
    return _result(pr, pr.t("subscribe.confirmed"))


async def unsubscribe(pr: PageRequest) -> Response:
    """GET from the link in a mail: a button; POST from it, or a mail client's one-click unsubscribe
    (RFC 8058, from any origin), unsubscribes."""
    if pr.request.method != "POST":
        return await _ask(pr, "unsubscribe")
    subscriber = await _by_token(pr, "unsubscribe")
    if subscriber is None:
        return _result(pr, pr.t("subscribe.invalid"), status_code=404)
    log.info("page.unsubscribed", page_id=pr.page_id, subscriber_id=subscriber.id)
    return _result(pr, pr.t("subscribe.unsubscribed"))
