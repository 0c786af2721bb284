"""The near-duplicate cluster rule, shared by processing and by ``newsvault reindex``.

Processing applies it to each new version as it is stored; reindex replays it over every
version in the order processing stored them (the conversion records' dates), so both arrive
at the same clusters. The rule: a new version's signature is looked up in the LSH index, and
every candidate whose *current* version is a near-duplicate joins one cluster with it.
Clusters only ever grow; nothing is dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import Article, Cluster, Version, utcnow
from tasks.dedup import LshIndex, is_near_duplicate, signature_from_bytes


def join_cluster(
    session: Session,
    article: Article,
    sig: Any,
    index: LshIndex,
    previous_sig: Any = None,
    *,
    created_at: datetime | None = None,
) -> None:
    """Put ``article`` (whose new signature is ``sig``) in a cluster with its near-duplicates.

    ``previous_sig`` is the signature of the version ``sig`` replaces: the index holds each
    article's current text only. ``created_at`` stamps a cluster created here; reindex passes
    the processing time so that rebuilding twice gives identical rows.
    """
    if previous_sig is not None:
        index.remove(article.id, previous_sig)
    for other_id in index.query_and_insert(article.id, sig):
        if other_id == article.id:
            continue
        other = session.get(Article, other_id)
        if other is None or other.current_version_id is None:
            continue
        other_version = session.get(Version, other.current_version_id)
        if other_version is None or other_version.minhash is None:
            continue
        if not is_near_duplicate(sig, signature_from_bytes(other_version.minhash)):
            continue
        cluster_id = other.cluster_id or article.cluster_id
        if cluster_id is None:
            cluster = Cluster(created_at=created_at or utcnow())
            session.add(cluster)
            session.flush()
            cluster_id = cluster.id
        other.cluster_id = cluster_id
        article.cluster_id = cluster_id
