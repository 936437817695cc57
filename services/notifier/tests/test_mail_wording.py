"""Subscriber mails speak the page's default locale: every locale says everything, and the page's locale
reaches the mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.subscribers import compose
from notifier.subscribers.content import ConfirmMail, MaintenanceMail, PageRef, ReportMail, render
from notifier.subscribers.wording import WORDING
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import Maintenance, StatusPage, Workspace
from openstatus_common.settings import Settings

START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
END = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def page(locale: str) -> PageRef:
    return PageRef(title="Acme", url="https://status.acme.test", locale=locale)


@pytest.mark.parametrize("locale", sorted(WORDING))
def test_every_locale_has_every_phrase_with_the_same_placeholders(locale: str) -> None:
    assert WORDING[locale].keys() == WORDING["en"].keys()
    for key, english in WORDING["en"].items():
        placeholders = {part.split("}")[0] for part in english.split("{")[1:]}
        assert {part.split("}")[0] for part in WORDING[locale][key].split("{")[1:]} == placeholders, key


def test_a_french_page_mails_in_french() -> None:
    mail = ReportMail(
        page=page("fr"), report_id=7, title="Paiements lents", status="investigating", message="On regarde.",
        date=START, components=["API"],
    )  # fmt: skip
    rendered = render(mail, token="tok")
    assert rendered.subject == "[Acme] Enquête en cours: Paiements lents"
    assert "Concernés: API" in rendered.text
    assert "Rapport complet: https://status.acme.test/events/report/7" in rendered.text
    assert "Se désabonner: https://status.acme.test/unsubscribe/tok" in rendered.text
    assert "Lire le rapport complet" in rendered.html


def test_a_german_page_reminds_and_confirms_in_german() -> None:
    reminder = MaintenanceMail(
        stage="reminder", page=page("de"), title="DB-Upgrade", message="", starts_at=START, ends_at=END
    )
    assert (
        render(reminder, token="t").subject == "[Acme] Erinnerung: DB-Upgrade beginnt am 2026-12-01 14:00 UTC"
    )
    confirm = render(ConfirmMail(page=page("de")), token="t")
    assert confirm.subject == "Bestätigen Sie Ihr Abonnement von Acme"
    assert "Abonnement bestätigen: https://status.acme.test/confirm/t" in confirm.text


def test_an_unknown_locale_falls_back_to_english() -> None:
    rendered = render(ConfirmMail(page=page("xx")), token="t")
    assert rendered.subject == "Confirm your subscription to Acme"


async def test_the_pages_default_locale_reaches_the_mail(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name="Ws", slug="ws", plan="team", limits={})
        session.add(workspace)
        await session.flush()
        row = StatusPage(
            workspace_id=workspace.id, title="Acme", slug="acme", default_locale="fr", published=True
        )
        session.add(row)
        await session.flush()
        ref = await compose.page_ref(session, Settings(), row.id, workspace_id=workspace.id)
    assert ref is not None and ref.locale == "fr"


async def test_a_maintenance_announced_once_it_began_is_in_progress_not_scheduled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name="Ws", slug="ws", plan="team", limits={})
        session.add(workspace)
        await session.flush()
        row = StatusPage(workspace_id=workspace.id, title="Acme", slug="acme", published=True)
        session.add(row)
        await session.flush()
        windows = {
            "begun": (now - timedelta(minutes=5), now + timedelta(hours=1)),
            "ahead": (now + timedelta(days=1), now + timedelta(days=1, hours=1)),
        }
        ids = {}
        for title, (starts_at, ends_at) in windows.items():
            maintenance = Maintenance(
                workspace_id=workspace.id, page_id=row.id, title=title, starts_at=starts_at, ends_at=ends_at
            )
            session.add(maintenance)
            await session.flush()
            ids[title] = maintenance.id
        stages = {}
        for title, maintenance_id in ids.items():
            mail = await compose.maintenance_mail(
                session,
                Settings(),
                workspace_id=workspace.id,
                page_id=row.id,
                maintenance_id=maintenance_id,
                stage="scheduled",
            )
            assert mail is not None
            stages[title] = mail.stage
    assert stages == {"begun": "in_progress", "ahead": "scheduled"}
    begun = render(
        MaintenanceMail.model_validate({**_sample_maintenance(), "stage": "in_progress"}), token="t"
    )
    assert begun.subject.startswith("[Acme] Maintenance in progress: DB")


def _sample_maintenance() -> dict[str, object]:
    return {"page": page("en"), "title": "DB", "message": "", "starts_at": START, "ends_at": END}
