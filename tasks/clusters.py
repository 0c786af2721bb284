"""The near-duplicate cluster rule, shared by processing and by ``newsvault reindex``.

Processing applies it to each new version as it is stored; reindex replays it over every
version in the order processing stored them (the conversion records' dates), so both arrive
at the same clusters. The rule: a new version's signature is looked up in the LSH index, and
every candidate whose *current* version is a near-duplicate joins one cluster with it; when
the matches already sit in different clusters, those clusters merge into the oldest (lowest
id), so a story is one cluster whatever order its copies were processed in. Clusters only
ever grow; nothing is dropped.

Also here: what ``newsvault clusters`` lists (:func:`list_clusters`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from processing.dedup import IndexUpdate, LshIndex, is_near_duplicate, signature_from_bytes
from storage.db import read_scope, session_scope
from storage.models import Article, Cluster, Version, utcnow

# How long to wait for a candidate another worker has indexed but not yet committed (see
# join_late_candidates). Its transaction is short (one batch); past this it is taken as
# rolled back.
UNCOMMITTED_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class _Match:
    article_id: int
    cluster_id: int | None


@dataclass(frozen=True)
class Joined:
    """What :func:`join_cluster` did."""

    cluster_id: int | None  # the cluster the article joined; None when nothing matched
    # Candidates this transaction could not see yet: indexed by another worker whose
    # transaction had not committed. Settle them with join_late_candidates after committing.
    unseen: tuple[int, ...] = ()


def join_cluster(
    session: Session,
    article_id: int,
    sig: Any,
    index: LshIndex,
    previous_sig: Any = None,
    *,
    created_at: datetime | None = None,
) -> Joined:
    """Put an article (its new signature ``sig``) in one cluster with its near-duplicates.

    ``previous_sig`` is the signature of the version ``sig`` replaces: the index holds each
    article's current text only. ``created_at`` stamps a cluster created here; reindex passes
    the processing time so that rebuilding twice gives identical rows. A member that drifts
    away stays a member. The article rows are updated here, in the caller's transaction.
    """
    (joined,) = join_clusters(
        session, [(article_id, sig, previous_sig)], index, created_at=created_at
    )
    return joined


def join_clusters(
    session: Session,
    updates: Sequence[IndexUpdate],
    index: LshIndex,
    *,
    created_at: datetime | None = None,
) -> list[Joined]:
    """:func:`join_cluster` for several articles, in order, as if called one by one.

    The index is updated in one round trip, and the candidates' signatures are read in one
    query (read again only after a merge, which moves clusters).
    """
    candidates = [
        [other for other in found if other != article_id]
        for (article_id, _, _), found in zip(updates, index.update_many(updates), strict=True)
    ]
    wanted = sorted({other for found in candidates for other in found})
    signatures = _select_signatures(session, wanted) if wanted else {}
    joined = []
    for (article_id, sig, _), found in zip(updates, candidates, strict=True):
        if not found:
            joined.append(Joined(None))
            continue
        visible = {other: signatures[other] for other in found if other in signatures}
        unseen = tuple(other for other in found if other not in signatures)
        matches = _verified(sig, visible)
        cluster_id = None
        if matches:
            cluster_id = _merge(session, article_id, matches, created_at)
            signatures = _select_signatures(session, wanted)
        joined.append(Joined(cluster_id, unseen))
    return joined


def join_late_candidates(
    db_url: str, article_id: int, sig: Any, unseen: Sequence[int]
) -> int | None:
    """Finish a join once the article's transaction has committed; returns the cluster joined.

    The index is shared and updated inside each worker's transaction, so a candidate can be
    in Redis before its article is committed. It was indexed before us, so it did not see us;
    if we skipped it, the pair would never be linked. So we wait for its commit, but not
    inside our own transaction: two workers whose batches each hold a candidate of the other
    would each wait for a commit the other cannot make. On PostgreSQL a new statement sees
    the latest commits, so polling for a short while finds it. SQLite runs one writer at a
    time: what is invisible there was rolled back, and waiting cannot help.
    """
    found: dict[int, tuple[int | None, bytes]] = {}
    missing = list(unseen)
    deadline = time.monotonic() + UNCOMMITTED_WAIT_SECONDS
    while missing:
        with read_scope(db_url) as session:
            found.update(_select_signatures(session, missing))
            can_wait = session.get_bind().dialect.name != "sqlite"
        missing = [other for other in missing if other not in found]
        if not can_wait or time.monotonic() >= deadline:
            break
        if missing:
            time.sleep(_POLL_SECONDS)
    if not _verified(sig, found):
        return None
    with session_scope(db_url) as session:
        # Read again in this transaction: clusters may have merged while we waited.
        matches = _verified(sig, _select_signatures(session, list(found)))
        return _merge(session, article_id, matches, None) if matches else None


def _verified(sig: Any, found: dict[int, tuple[int | None, bytes]]) -> list[_Match]:
    """The candidates whose current version is a near-duplicate of ``sig``."""
    return [
        _Match(article_id, cluster_id)
        for article_id, (cluster_id, minhash) in sorted(found.items())
        if is_near_duplicate(sig, signature_from_bytes(minhash))
    ]


def _select_signatures(
    session: Session, article_ids: list[int]
) -> dict[int, tuple[int | None, bytes]]:
    # Columns, not ORM objects: the identity map would keep answering with a stale row.
    rows = session.execute(
        select(Article.id, Article.cluster_id, Version.minhash)
        .join(Version, Version.id == Article.current_version_id)
        .where(Article.id.in_(article_ids), Version.minhash.is_not(None))
    )
    return {
        article_id: (cluster_id, minhash)
        for article_id, cluster_id, minhash in rows
        if minhash is not None
    }


def _merge(
    session: Session, article_id: int, matches: list[_Match], created_at: datetime | None
) -> int:
    """One cluster for the article and ``matches``: the lowest existing id, else a new one."""
    existing = {m.cluster_id for m in matches if m.cluster_id is not None}
    # Read here, not passed in: an earlier merge in the same transaction may have moved it.
    own = session.execute(select(Article.cluster_id).where(Article.id == article_id)).scalar()
    if own is not None:
        existing.add(own)
    if existing:
        target = min(existing)
    else:
        target = session.execute(
            insert(Cluster).values(created_at=created_at or utcnow()).returning(Cluster.id)
        ).scalar_one()
    absorbed = existing - {target}
    joining = [m.article_id for m in matches if m.cluster_id != target] + [article_id]
    # Whole absorbed clusters move: their other members are the story too. Locked in id
    # order first, so two merging workers queue instead of deadlocking.
    movers = or_(Article.id.in_(joining), Article.cluster_id.in_(absorbed))
    moving = list(
        session.scalars(select(Article.id).where(movers).order_by(Article.id).with_for_update())
    )
    session.execute(
        update(Article).where(Article.id.in_(moving)).values(cluster_id=target),
        execution_options={"synchronize_session": False},
    )
    # Reindex holds articles in its session: they read their new cluster back from the row.
    for moved in moving:
        held = session.identity_map.get(identity_key(Article, moved))
        if held is not None:
            session.expire(held, ["cluster_id"])
    return target


# --- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterMember:
    article_id: int
    url: str
    title: str | None
    language: str | None
    first_seen: datetime


@dataclass(frozen=True)
class ClusterSummary:
    cluster_id: int
    created_at: datetime
    members: list[ClusterMember]

    @property
    def first_seen(self) -> datetime:
        return min(member.first_seen for member in self.members)


def list_clusters(
    session: Session, *, min_size: int = 2, limit: int | None = None
) -> list[ClusterSummary]:
    """Clusters with at least ``min_size`` members, largest first, members oldest first."""
    sizes = (
        select(Article.cluster_id, func.count(Article.id).label("size"))
        .where(Article.cluster_id.is_not(None))
        .group_by(Article.cluster_id)
        .having(func.count(Article.id) >= min_size)
        .subquery()
    )
    chosen = session.execute(
        select(Cluster.id, Cluster.created_at)
        .join(sizes, sizes.c.cluster_id == Cluster.id)
        .order_by(sizes.c.size.desc(), Cluster.id)
        .limit(limit)
    ).all()
    if not chosen:
        return []
    members: dict[int, list[ClusterMember]] = {cluster_id: [] for cluster_id, _ in chosen}
    rows = session.execute(
        select(
            Article.cluster_id,
            Article.id,
            Article.canonical_url,
            Article.title,
            Article.language,
            Article.first_seen,
        )
        .where(Article.cluster_id.in_(list(members)))
        .order_by(Article.first_seen, Article.id)
    )
    for cluster_id, article_id, url, title, language, first_seen in rows:
        if cluster_id is None:  # not selected: the filter names clusters
            continue
        members[cluster_id].append(ClusterMember(article_id, url, title, language, first_seen))
    return [
        ClusterSummary(cluster_id, created_at, members[cluster_id])
        for cluster_id, created_at in chosen
    ]
