"""Who may see a page: public, password, email domain (magic link) or IP restriction."""

from __future__ import annotations

from starlette.responses import Response

from status_page.context import PageRequest
from status_page.views.common import plain_html


async def check_access(pr: PageRequest) -> Response | None:
    """None when the visitor may see the page; otherwise the response that stands in for it."""
    if pr.snapshot.page.access_type == "public":
        return None
    return plain_html(pr, "message.html", status_code=401, title=pr.t("login.title"), message="")
