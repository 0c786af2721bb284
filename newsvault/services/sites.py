"""Site definitions: save (add or replace), remove, and read them, with one rule set.

Every front end goes through here, so a site saved from a TOML file, from ``sites add``
options, through ``POST``/``PUT /api/sites`` or from the web UI is validated the same way
(``crawler.sitedef``), and its ``schedule`` reaches the running beat the same way. Removing a
site keeps its captures and crawl history (the archive is never pruned): with captures, it
takes ``force``, and its crawl jobs and articles are unlinked, not deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from crawler.sitedef import SiteDefinition, SiteDefinitionError, parse_site
from newsvault.config import Settings
from newsvault.services import schedules
from newsvault.services.errors import Conflict, Invalid, NotFound
from storage.db import session_scope
from storage.models import Article, Capture, CrawlJob, Site
from tasks.schedules import ScheduleInfo


@dataclass(frozen=True)
class SavedSite:
    id: int
    name: str
    replaced: bool
    definition: dict[str, Any]
    schedule: ScheduleInfo | None  # the schedule now on the beat, when the definition has one


@dataclass(frozen=True)
class RemovedSite:
    name: str
    captures: int  # archived captures of the site, all kept
    schedule_removed: bool


def parse_definition(data: dict[str, Any], *, source: str) -> SiteDefinition:
    """Validate a definition mapping; :class:`Invalid` names ``source`` and the field."""
    try:
        return parse_site(data, source=source)
    except SiteDefinitionError as exc:
        raise Invalid(str(exc)) from None


def stored(session: Session, name: str) -> Site | None:
    return session.scalar(select(Site).where(Site.name == name))


def definition_of(row: Site) -> SiteDefinition:
    """The stored definition, validated again (a newer version may be stricter)."""
    try:
        return parse_site(dict(row.definition), source=f"site {row.name!r} in the index")
    except SiteDefinitionError as exc:
        raise Invalid(f"{exc}; fix it with `newsvault sites add FILE --replace`") from None


def save_site(settings: Settings, site: SiteDefinition, *, replace: bool) -> SavedSite:
    """Store ``site``; with ``replace``, an existing site of that name takes the new definition.

    A definition with a ``schedule`` puts it on the running beat at once (distributed mode),
    as ``newsvault sites schedule`` would: a schedule set through any front end fires.
    """
    definition = site.model_dump(mode="json")
    with session_scope(settings.index_url) as session:
        row = stored(session, site.name)
        replaced = row is not None
        if row is not None and not replace:
            raise Conflict(
                f"a site named {site.name!r} exists; replace its definition "
                "(`sites add --replace`, or PUT /api/sites/NAME)"
            )
        if row is None:
            row = Site(name=site.name, definition=definition)
            session.add(row)
        else:
            row.definition = definition
        session.flush()
        site_id = row.id
    schedule = None
    if site.schedule and not settings.embedded:
        schedule = schedules.set_schedule(settings, site.name, site.schedule)
    return SavedSite(site_id, site.name, replaced, definition, schedule)


def site_usage(session: Session, row: Site) -> dict[str, Any]:
    """Captures and crawls of a site: by its row, or by its name (a site removed and re-added
    keeps its history, as crawl jobs record the name they were started with)."""
    of_site = or_(CrawlJob.site_id == row.id, CrawlJob.target == row.name)
    captures = session.scalar(
        select(func.count(Capture.id))
        .join(CrawlJob, Capture.crawl_job_id == CrawlJob.id)
        .where(of_site)
    )
    last = session.execute(
        select(CrawlJob.id, CrawlJob.state, CrawlJob.started_at)
        .where(of_site)
        .order_by(CrawlJob.id.desc())
        .limit(1)
    ).first()
    crawls = session.scalar(select(func.count(CrawlJob.id)).where(of_site))
    return {
        "captures": captures or 0,
        "crawls": crawls or 0,
        "last_crawl": (
            {"job_id": last.id, "state": last.state, "started_at": last.started_at}
            if last
            else None
        ),
    }


def remove_site(settings: Settings, name: str, *, force: bool) -> RemovedSite:
    """Remove a site's definition (and its schedule); its archived captures are kept.

    A site with captures needs ``force``: removing it stops its crawls, and the operator
    should say so. Its crawl jobs keep their target (the name) and its articles their
    versions; only their link to the definition goes.
    """
    with session_scope(settings.index_url) as session:
        row = stored(session, name)
        if row is None:
            raise NotFound(f"no site named {name!r}; see `newsvault sites list`")
        usage = site_usage(session, row)
        if usage["captures"] and not force:
            raise Conflict(
                f"site {name!r} has {usage['captures']:,} archived captures; removing the site "
                "keeps them (the archive is never pruned) but stops its crawls: add --force "
                "(API: ?force=true)"
            )
        session.execute(update(CrawlJob).where(CrawlJob.site_id == row.id).values(site_id=None))
        session.execute(update(Article).where(Article.site_id == row.id).values(site_id=None))
        session.delete(row)
    schedule_removed = schedules.forget(settings, name)
    return RemovedSite(name, usage["captures"], schedule_removed)
