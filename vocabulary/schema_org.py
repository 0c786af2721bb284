"""schema.org types that mark a page as an article, shared by the crawler and extraction."""

from __future__ import annotations

# Lower-case @type values (the last path segment of a full type URL).
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "report",
    }
)
