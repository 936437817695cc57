"""The page read model in memory: snapshots by page, rendered responses by variant, and the stale fallback.

A snapshot is loaded on first use and kept until an event about its page (or one of its monitors) drops it,
or ``cache_seconds`` pass (the safety net for a missed event, and what moves the trackers along). Rendered
bodies hang off the snapshot they were made from, so they go with it. If the database cannot be read, the
last snapshot keeps being served, marked stale, until it can be again.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.db.models import StatusPage
from openstatus_common.pages.snapshot import PageSnapshot, find_page_id, load_snapshot

log = structlog.get_logger(__name__)

# After a failed load, wait this long before trying the database again for that page.
RETRY_AFTER_FAILURE = 2.0
# How long "no such page" is remembered (an event about a new page clears it sooner).
MISS_SECONDS = 5.0
MAX_RENDERED_PER_PAGE = 256
# Names (slugs, hosts) remembered; misses are dropped past this.
MAX_LOOKUPS = 10_000
# Pages loaded at start-up, most recently changed first.
PREWARM_PAGES = 100


COMPRESS_FROM = 1024


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str
    # The body gzipped once, for clients that accept it (None when too small to bother).
    gzipped: bytes | None = None


@dataclass
class _Entry:
    snapshot: PageSnapshot
    loaded_at: float
    rendered: dict[tuple[object, ...], Rendered] = field(default_factory=dict)
    failed_at: float = 0.0


class PageStore:
    def __init__(
        self,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        *,
        cache_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._entries: dict[int, _Entry] = {}
        self._by_slug: dict[str, tuple[int | None, float]] = {}
        self._by_domain: dict[str, tuple[int | None, float]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._generation = 0

    # -- lookups ------------------------------------------------------------------------------------------

    async def by_slug(self, slug: str) -> PageSnapshot | None:
        key = slug.lower()
        return await self._lookup(
            self._by_slug, key, lambda s: find_page_id(s, slug=key), lambda snap: snap.page.slug == key
        )

    async def by_domain(self, domain: str) -> PageSnapshot | None:
        key = domain.lower()
        return await self._lookup(
            self._by_domain,
            key,
            lambda s: find_page_id(s, domain=key),
            lambda snap: snap.page.custom_domain == key,
        )

    async def _lookup(
        self,
        index: dict[str, tuple[int | None, float]],
        key: str,
        find: Callable[[AsyncSession], Awaitable[int | None]],
        answers_to: Callable[[PageSnapshot], bool],
    ) -> PageSnapshot | None:
        now = time.monotonic()
        known = index.get(key)
        if known is not None and known[0] is not None and known[0] in self._entries:
            snap = await self.snapshot(known[0])
            if snap is not None and answers_to(snap):
                return snap
            # The page no longer has this name (a changed slug or domain): ask the database who has it.
            index.pop(key, None)
            known = None
        if known is not None and known[0] is None and now - known[1] < MISS_SECONDS:
            return None
        try:
            async with self._sessions()() as session:
                page_id = await find(session)
        except Exception as error:
            if known is not None and known[0] is not None:
                return await self.snapshot(known[0])
            log.warning("pages.lookup_failed", key=key, error=repr(error))
            raise
        if page_id is None and len(index) >= MAX_LOOKUPS:
            _drop_misses(index)  # junk hosts and slugs must not grow memory without bound
        index[key] = (page_id, now)
        if page_id is None:
            return None
        return await self.snapshot(page_id)

    async def snapshot(self, page_id: int) -> PageSnapshot | None:
        entry = self._entries.get(page_id)
        now = time.monotonic()
        if entry is not None and now - entry.loaded_at < self._cache_seconds:
            return entry.snapshot
        if entry is not None and entry.failed_at and now - entry.failed_at < RETRY_AFTER_FAILURE:
            return entry.snapshot
        lock = self._locks.setdefault(page_id, asyncio.Lock())
        if entry is not None and lock.locked():
            return entry.snapshot  # someone is refreshing it: serve the previous one meanwhile
        async with lock:
            entry = self._entries.get(page_id)
            if entry is not None and time.monotonic() - entry.loaded_at < self._cache_seconds:
                return entry.snapshot
            generation = self._generation
            try:
                async with self._sessions()() as session:
                    fresh = await load_snapshot(session, page_id, now=utcnow(), offload=True)
            except Exception as error:
                if entry is None:
                    raise
                log.warning("pages.serving_stale", page_id=page_id, error=repr(error))
                stale = replace(entry.snapshot, stale=True) if not entry.snapshot.stale else entry.snapshot
                self._entries[page_id] = _Entry(stale, entry.loaded_at, {}, failed_at=time.monotonic())
                return stale
            if fresh is None or not fresh.page.published:
                self._forget(page_id)
                return None
            if generation == self._generation:  # no event arrived while loading
                self._entries[page_id] = _Entry(fresh, time.monotonic())
            self._index(fresh)
            return fresh

    async def prewarm(self, limit: int = PREWARM_PAGES) -> int:
        """Load the most recently changed published pages ahead of their first visitor; return how many.

        A page loaded once can be served through a later database outage, and its first visitor does not
        pay for the load (or for the process's first queries).
        """
        async with self._sessions()() as session:
            ids = (
                (
                    await session.execute(
                        select(StatusPage.id)
                        .where(StatusPage.published)
                        .order_by(StatusPage.updated_at.desc())
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
        loaded = 0
        for page_id in ids:
            if page_id not in self._entries and await self.snapshot(page_id) is not None:
                loaded += 1
        return loaded

    # -- rendered responses -------------------------------------------------------------------------------

    async def rendered(
        self,
        snapshot: PageSnapshot,
        key: tuple[object, ...],
        render: Callable[[], Awaitable[tuple[bytes, str]]],
    ) -> Rendered:
        """The body for ``key`` rendered from ``snapshot``, rendered once per snapshot."""
        entry = self._entries.get(snapshot.page.id)
        cache = entry.rendered if entry is not None and entry.snapshot is snapshot else None
        if cache is not None and (hit := cache.get(key)) is not None:
            return hit
        body, media_type = await render()
        gzipped = (
            await asyncio.to_thread(gzip.compress, body, compresslevel=6, mtime=0)
            if len(body) >= COMPRESS_FROM
            else None
        )
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        rendered = Rendered(body, media_type, etag, gzipped)
        if cache is not None and len(cache) < MAX_RENDERED_PER_PAGE:
            cache[key] = rendered
        return rendered

    def _index(self, fresh: PageSnapshot) -> None:
        """Point the page's slug and domain at it, and drop names it no longer has (a renamed slug)."""
        page_id, now = fresh.page.id, time.monotonic()
        for index, current in ((self._by_slug, fresh.page.slug), (self._by_domain, fresh.page.custom_domain)):
            for key, (known, _) in list(index.items()):
                if known == page_id and key != current:
                    del index[key]
            if current:
                index[current] = (page_id, now)

    # -- invalidation -------------------------------------------------------------------------------------

    def invalidate_page(self, page_id: int) -> None:
        self._generation += 1
        self._expire(page_id)
        # A page just created or published may be remembered as missing.
        for index in (self._by_slug, self._by_domain):
            _drop_misses(index)

    def invalidate_monitor(self, monitor_id: int) -> None:
        self._generation += 1
        for page_id, entry in list(self._entries.items()):
            if monitor_id in entry.snapshot.monitor_ids:
                self._expire(page_id)

    def _expire(self, page_id: int) -> None:
        """Reload on the next visit, but keep the snapshot: if the database is down then, it is served stale."""
        entry = self._entries.get(page_id)
        if entry is not None:
            self._entries[page_id] = _Entry(entry.snapshot, float("-inf"))

    def _forget(self, page_id: int) -> None:
        """The page is gone (deleted or unpublished): no snapshot, no names."""
        self._entries.pop(page_id, None)
        for index in (self._by_slug, self._by_domain):
            for key, (known, _) in list(index.items()):
                if known == page_id or known is None:
                    index.pop(key, None)


def _drop_misses(index: dict[str, tuple[int | None, float]]) -> None:
    for key, (known, _) in list(index.items()):
        if known is None:
            del index[key]
