"""The HTTP API, Memento and the web UI, in process (FastAPI's TestClient over a real archive).

The archive holds the Arabic seed article (gzipped on the wire, fetched twice: the second
time unchanged, a revisit), its republished copy, the English article edited between two
captures (two versions), and a page carrying a script and a cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient

from newsvault.config import Settings, load_settings
from newsvault.sample_site import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
)
from newsvault.web import create_app
from storage.archive import Archive
from storage.fetch import Fetch
from tasks.lsh import near_duplicate_index
from tasks.pipeline import process_capture
from tests.test_pipeline import BASE, T0, page_fetch

SCRIPT_URL = BASE + "/opinion/scripted.html"
SCRIPT_PAGE = (
    b'<!doctype html><html lang="en"><head><title>Harbour plan approved</title></head><body>'
    b"<article><h1>Harbour plan approved</h1>"
    + b"".join(
        b"<p onclick=\"document.title='clicked'\">The council approved part %d of the harbour "
        b"plan on Tuesday after a long debate, with residents asking for more parking near the "
        b'ferry terminal. <a href="javascript:alert(1)">More</a></p>' % number
        for number in range(5)
    )
    + b"</article><script>document.title = 'pwned';</script></body></html>"
)
TOKEN = "s3cret-token"
RFC1123 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


@dataclass(frozen=True)
class Archived:
    settings: Settings
    seed_url: str
    copy_url: str
    edited_url: str
    seed_times: tuple[datetime, datetime]
    edited_times: tuple[datetime, datetime]


def build_archive(settings: Settings) -> Archived:
    """Archive and process the sample pages the API and browser tests read."""
    # Open the near-duplicate index before processing: it reads the index database.
    near_duplicate_index(settings)
    seed_times = (T0, T0 + timedelta(hours=6))
    edited_times = (T0 + timedelta(hours=1), T0 + timedelta(days=1, hours=1))
    fetches = [
        page_fetch(ARABIC_ARTICLE_PATH, at=seed_times[0], gzipped=True),
        page_fetch(REPUBLISHED_ARTICLE_PATH, at=T0 + timedelta(minutes=30)),
        page_fetch(EDITED_ARTICLE_PATH, at=edited_times[0]),
        Fetch(
            url=SCRIPT_URL,
            canonical_url=SCRIPT_URL,
            status=200,
            response_headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Set-Cookie", "session=archived; Path=/"),
            ],
            body=SCRIPT_PAGE,
            fetched_at=T0 + timedelta(hours=2),
            kind="article",
        ),
    ]
    later = [
        page_fetch(ARABIC_ARTICLE_PATH, at=seed_times[1], gzipped=True),  # a revisit
        page_fetch(EDITED_ARTICLE_PATH, edition=2, at=edited_times[1]),
    ]
    for batch in (fetches, later):
        with Archive(settings) as archive:
            for fetch in batch:
                archive.add(fetch)
            ids = archive.commit()
        for capture_id in ids:
            process_capture(capture_id, settings)
    return Archived(
        settings,
        BASE + ARABIC_ARTICLE_PATH,
        BASE + REPUBLISHED_ARTICLE_PATH,
        BASE + EDITED_ARTICLE_PATH,
        seed_times,
        edited_times,
    )


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Archived:
    from storage.db import migrate
    from tasks.lsh import forget_indexes

    forget_indexes()
    home = tmp_path_factory.mktemp("api") / "data"
    settings = load_settings(home=home, api_token=TOKEN)
    settings.ensure_home()
    migrate(settings.index_url)
    return build_archive(settings)


@pytest.fixture(scope="module")
def launched() -> list[int]:
    return []


@pytest.fixture(scope="module")
def client(archived: Archived, launched: list[int]) -> Iterator[TestClient]:
    app = create_app(archived.settings, launch_crawl=lambda _s, job_id: launched.append(job_id))
    with TestClient(app) as test_client:
        yield test_client


def article_id(client: TestClient, url: str) -> int:
    for article in client.get("/api/articles", params={"limit": 200}).json()["articles"]:
        if article["url"] == url:
            return int(article["id"])
    raise AssertionError(f"{url} not listed")


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def ts14(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def parse_links(header: str) -> dict[str, tuple[str, dict[str, str]]]:
    """A Link header as {rel: (uri, params)}; a multi-word rel is listed under each word."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for match in re.finditer(r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", header):
        params = dict(re.findall(r'([a-z]+)="([^"]*)"', match.group(2)))
        for word in params.get("rel", "").split():
            found.setdefault(word, (match.group(1), params))
    return found


# --- JSON API -------------------------------------------------------------------------------


def test_health_and_openapi_docs(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/search", "/api/articles", "/timegate/{url}", "/api/export/versions.jsonl"):
        assert path in paths


def test_articles_list_filters_and_cursor(client: TestClient, archived: Archived) -> None:
    everything = client.get("/api/articles").json()["articles"]
    assert {a["url"] for a in everything} >= {archived.seed_url, archived.edited_url}
    arabic = client.get("/api/articles", params={"language": "ar"}).json()["articles"]
    assert {a["url"] for a in arabic} == {archived.seed_url, archived.copy_url}
    # Pages of one: every article exactly once, in the same order as one big page.
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/articles", params=params).json()
        seen += [a["id"] for a in page["articles"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in everything]
    # Published in 2021 (the seed story) and captured on the second day (the edit).
    published = client.get(
        "/api/articles", params={"published_since": "2021-01-01", "published_until": "2021-12-31"}
    ).json()["articles"]
    assert archived.seed_url in {a["url"] for a in published}
    assert archived.edited_url not in {a["url"] for a in published}
    day_two = (T0 + timedelta(days=1)).isoformat()
    captured = client.get("/api/articles", params={"captured_since": day_two}).json()["articles"]
    assert [a["url"] for a in captured] == [archived.edited_url]


def test_article_versions_and_cluster(client: TestClient, archived: Archived) -> None:
    edited = client.get(f"/api/articles/{article_id(client, archived.edited_url)}").json()
    assert edited["versions"] == 2
    assert [v["number"] for v in edited["version_list"]] == [1, 2]
    seed = client.get(f"/api/articles/{article_id(client, archived.seed_url)}").json()
    assert [m["url"] for m in seed["cluster_members"]] == [archived.copy_url]
    versions = client.get(f"/api/articles/{edited['id']}/versions").json()["versions"]
    assert versions[1]["words_added"] > 0


def test_one_version_has_text_metadata_and_sanitized_html(
    client: TestClient, archived: Archived
) -> None:
    seed_id = article_id(client, archived.seed_url)
    version = client.get(f"/api/articles/{seed_id}/versions/1").json()
    assert "قاآني" in version["text"]
    assert version["language"] == "ar"
    assert version["html"] and "<script" not in version["html"]
    scripted = client.get(f"/api/articles/{article_id(client, SCRIPT_URL)}/versions/1").json()
    assert "pwned" not in scripted["html"]


def test_diff_of_two_versions(client: TestClient, archived: Archived) -> None:
    edited_id = article_id(client, archived.edited_url)
    diff = client.get(f"/api/articles/{edited_id}/diff", params={"from": 1, "to": 2}).json()
    assert diff["added"] > 0 and diff["removed"] > 0
    assert any(op["op"] == "insert" and "Correction" in op["text"] for op in diff["ops"])
    assert "<ins" in diff["html"]


def test_captures_of_a_url(client: TestClient, archived: Archived) -> None:
    body = client.get("/api/captures", params={"url": archived.seed_url}).json()
    assert [c["record_type"] for c in body["captures"]] == ["response", "revisit"]
    assert body["captures"][0]["memento"].endswith(
        f"/web/{ts14(archived.seed_times[0])}/{archived.seed_url}"
    )


def test_search_endpoint_finds_the_seed_spelling(client: TestClient, archived: Archived) -> None:
    body = client.get("/api/search", params={"q": "قآني", "lang": "ar"}).json()
    urls = {hit["url"] for hit in body["results"]}
    assert urls == {archived.seed_url, archived.copy_url}
    seed_hit = next(h for h in body["results"] if h["url"] == archived.seed_url)
    assert "<mark>قاآني" in seed_hit["snippet_html"]
    assert client.get("/api/search", params={"q": "قآني", "lang": "en"}).json()["results"] == []


def test_exports_stream_jsonl_and_warc(client: TestClient, archived: Archived) -> None:
    import json

    from warcio.archiveiterator import ArchiveIterator

    lines = client.get("/api/export/versions.jsonl").text.strip().split("\n")
    documents = [json.loads(line) for line in lines]
    assert len(documents) == 5  # seed, copy, scripted page, edited v1 and v2
    assert {d["url"] for d in documents} >= {archived.seed_url, archived.edited_url}
    response = client.get("/api/export/captures.warc.gz", params={"url": archived.seed_url})
    assert response.headers["content-type"] == "application/warc"
    import io

    records = list(ArchiveIterator(io.BytesIO(response.content)))
    assert sorted(r.rec_type for r in records) == ["response", "revisit"]


def test_sites_and_crawls(client: TestClient) -> None:
    assert client.get("/api/sites").json() == {"sites": []}
    assert client.get("/api/crawls").json()["crawls"] == []


# --- writes and auth ------------------------------------------------------------------------


def test_write_endpoints_need_the_token(client: TestClient, launched: list[int]) -> None:
    body = {"target": "http://127.0.0.1:9/"}
    assert client.post("/api/crawls", json=body).status_code == 401
    wrong = client.post("/api/crawls", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "message" in wrong.json()
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    cross = client.post("/api/crawls", json=body, headers={**auth, "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    queued = client.post("/api/crawls", json=body, headers=auth)
    assert queued.status_code == 202, queued.text
    assert launched == [queued.json()["id"]]
    job = client.get(f"/api/crawls/{queued.json()['id']}").json()
    assert job["state"] == "queued" and job["target"] == body["target"]
    unknown = client.post("/api/crawls", json={"target": "no-such-site"}, headers=auth)
    assert unknown.status_code == 400


def test_site_crud(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    definition = {"name": "ledger", "start": {"feeds": ["http://127.0.0.1:8741/feed.xml"]}}
    assert client.post("/api/sites", json=definition).status_code == 401
    created = client.post("/api/sites", json=definition, headers=auth)
    assert created.status_code == 201, created.text
    assert client.post("/api/sites", json=definition, headers=auth).status_code == 409
    assert client.get("/api/sites/ledger").json()["name"] == "ledger"
    bad = client.put("/api/sites/ledger", json={"name": "ledger", "limits": "lots"}, headers=auth)
    assert bad.status_code == 400 and "limits" in bad.json()["message"]
    assert client.delete("/api/sites/ledger", headers=auth).status_code == 204
    assert client.get("/api/sites/ledger").status_code == 404


def test_without_a_configured_token_writes_are_disabled(archived: Archived) -> None:
    settings = archived.settings.model_copy(update={"api_token": None})
    with TestClient(create_app(settings, launch_crawl=lambda *_: None)) as anonymous:
        response = anonymous.post(
            "/api/crawls",
            json={"target": "http://x.example/"},
            headers={"Authorization": "Bearer x"},
        )
        assert response.status_code == 403
        assert "NEWSVAULT_API_TOKEN" in response.json()["message"]
        assert anonymous.get("/api/articles").status_code == 200


def test_protected_reads_need_the_token(archived: Archived) -> None:
    with TestClient(create_app(archived.settings, protect_reads=True)) as guarded:
        assert guarded.get("/api/articles").status_code == 401
        ok = guarded.get("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/articles", {"limit": 100000}),
        ("/api/articles", {"limit": 0}),
        ("/api/articles", {"limit": "many"}),
        ("/api/articles", {"published_since": "last tuesday"}),
        ("/api/articles", {"cursor": "garbage!"}),
        ("/api/search", {"q": "..."}),
        ("/api/search", {"q": "x", "since": "2021-13-45"}),
        ("/api/search", {"q": "x", "cursor": "bm90IGpzb24"}),
        ("/api/search", {}),
        ("/api/articles/1/diff", {"from": "a", "to": 2}),
        ("/api/crawls", {"limit": 10**9}),
    ],
)
def test_bad_parameters_are_400_with_a_message(
    client: TestClient, path: str, params: dict[str, object]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/articles/999999",
        "/api/articles/99999999999999999999999",
        "/api/articles/1/versions/77",
        "/api/crawls/424242",
        "/api/captures?url=http://nowhere.example/",
        "/api/show?url=http://nowhere.example/",
        "/timegate/http://nowhere.example/",
        "/timemap/link/http://nowhere.example/",
        "/web/20211101120000/http://nowhere.example/",
    ],
)
def test_unknown_things_are_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422, 400), response.text
    assert response.status_code != 500
    assert response.json()["message"]


# --- Memento --------------------------------------------------------------------------------


def test_timegate_redirects_to_the_closest_memento(client: TestClient, archived: Archived) -> None:
    first, second = archived.seed_times
    # Closer to the first capture (one hour after it, five before the second).
    asked = (first + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    response = client.get(
        f"/timegate/{archived.seed_url}",
        headers={"Accept-Datetime": asked},
        follow_redirects=False,
    )
    assert response.status_code == 302
    assert response.headers["vary"].lower() == "accept-datetime"
    assert response.headers["location"].endswith(f"/web/{ts14(first)}/{archived.seed_url}")
    links = parse_links(response.headers["link"])
    assert links["original"][0] == archived.seed_url
    assert links["timemap"][1]["type"] == "application/link-format"
    assert "first" in links and "last" in links
    # No Accept-Datetime: the most recent memento.
    latest = client.get(f"/timegate/{archived.seed_url}", follow_redirects=False)
    assert latest.headers["location"].endswith(f"/web/{ts14(second)}/{archived.seed_url}")
    # A tie goes to the earlier capture.
    middle = (first + (second - first) / 2).strftime("%a, %d %b %Y %H:%M:%S GMT")
    tie = client.get(
        f"/timegate/{archived.seed_url}",
        headers={"Accept-Datetime": middle},
        follow_redirects=False,
    )
    assert tie.headers["location"].endswith(f"/web/{ts14(first)}/{archived.seed_url}")
    # Memento clients often ask with HEAD.
    head = client.head(f"/timegate/{archived.seed_url}", follow_redirects=False)
    assert head.status_code == 302 and head.headers["vary"].lower() == "accept-datetime"
    bad = client.get(f"/timegate/{archived.seed_url}", headers={"Accept-Datetime": "yesterday"})
    assert bad.status_code == 400


def test_memento_headers(client: TestClient, archived: Archived) -> None:
    first, second = archived.seed_times
    response = client.get(f"/web/{ts14(first)}/{archived.seed_url}")
    assert response.status_code == 200
    assert RFC1123.match(response.headers["memento-datetime"])
    assert parsedate_to_datetime(response.headers["memento-datetime"]) == first.replace(
        microsecond=0
    )
    links = parse_links(response.headers["link"])
    assert set(links) >= {"original", "timegate", "timemap", "first", "last", "next", "memento"}
    assert "prev" not in links  # the first memento has none
    assert links["original"][0] == archived.seed_url
    assert links["timegate"][0].endswith(f"/timegate/{archived.seed_url}")
    assert links["next"][0].endswith(f"/web/{ts14(second)}/{archived.seed_url}")
    assert links["next"][0] == links["last"][0]
    assert RFC1123.match(links["first"][1]["datetime"])
    # The banner, and the cleaned article in the page's own spelling.
    assert "Archived copy" in response.text and "قاآني" in response.text
    # The second memento: prev is the first.
    later = parse_links(client.get(f"/web/{ts14(second)}/{archived.seed_url}").headers["link"])
    assert later["prev"][0].endswith(f"/web/{ts14(first)}/{archived.seed_url}")


def test_inexact_timestamp_redirects_to_the_memento(client: TestClient, archived: Archived) -> None:
    response = client.get(f"/web/2026/{archived.seed_url}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].endswith(
        f"/web/{ts14(archived.seed_times[0])}/{archived.seed_url}"
    )
    assert client.get(f"/web/20261399/{archived.seed_url}").status_code == 400
    assert client.get(f"/web/abc/{archived.seed_url}").status_code == 400


def test_timemaps(client: TestClient, archived: Archived) -> None:
    response = client.get(f"/timemap/link/{archived.seed_url}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/link-format")
    entries = response.text.strip().split(",\n")
    assert entries[0] == f'<{archived.seed_url}>; rel="original"'
    assert 'rel="self"; type="application/link-format"; from="' in entries[1]
    assert 'rel="timegate"' in entries[2]
    assert 'rel="first memento"' in entries[3] and 'rel="last memento"' in entries[4]
    for entry in entries[3:]:
        (date,) = re.findall(r'datetime="([^"]+)"', entry)
        assert RFC1123.match(date)
    data = client.get(f"/timemap/json/{archived.seed_url}").json()
    assert data["original_uri"] == archived.seed_url
    assert len(data["mementos"]["list"]) == 2


# --- raw replay -----------------------------------------------------------------------------


def test_raw_replay_is_byte_for_byte_and_sandboxed(client: TestClient, archived: Archived) -> None:
    at = ts14(T0 + timedelta(hours=2))
    response = client.get(f"/web/{at}id_/{SCRIPT_URL}")
    assert response.status_code == 200
    assert response.content == SCRIPT_PAGE
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in response.headers
    assert "memento-datetime" in response.headers


def test_raw_replay_of_gzip_keeps_the_encoding_and_follows_revisits(
    client: TestClient, archived: Archived
) -> None:
    import gzip

    import httpx

    first, second = archived.seed_times
    with client.stream("GET", f"/web/{ts14(first)}id_/{archived.seed_url}") as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw).startswith(b"<!")
    # The revisit serves the bytes of the response it repeats.
    revisit = client.get(f"/web/{ts14(second)}id_/{archived.seed_url}")
    assert revisit.status_code == 200 and "قاآني" in revisit.text
    assert isinstance(revisit, httpx.Response)


def test_rewritten_replay_of_a_gzipped_revisit_serves_the_repeated_page(
    client: TestClient, archived: Archived
) -> None:
    second = archived.seed_times[1]  # a revisit of a gzipped response
    response = client.get(f"/web/{ts14(second)}mp_/{archived.seed_url}")
    assert response.status_code == 200
    assert "content-encoding" not in response.headers  # decoded to be rewritten
    assert "قاآني" in response.text
    assert response.headers["content-security-policy"].startswith("sandbox ")
    assert response.headers["memento-datetime"] == http_date(second)


def test_cleaned_pages_carry_no_script(client: TestClient, archived: Archived) -> None:
    scripted_id = article_id(client, SCRIPT_URL)
    pages = [
        f"/web/{ts14(T0 + timedelta(hours=2))}/{SCRIPT_URL}",
        f"/articles/{scripted_id}",
        f"/articles/{scripted_id}/versions/1?view=html",
        f"/articles/{scripted_id}/versions/1",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text.lower()
        assert "<script" not in html and "javascript:" not in html, path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_separate_replay_origin(archived: Archived) -> None:
    app = create_app(archived.settings, replay_origin="http://replay.test")
    with TestClient(app) as split:
        path = f"/web/{ts14(T0 + timedelta(hours=2))}id_/{SCRIPT_URL}"
        moved = split.get(path, follow_redirects=False)
        assert moved.status_code == 302
        assert moved.headers["location"] == "http://replay.test" + path
        served = split.get("http://replay.test" + path)
        assert served.status_code == 200 and served.content == SCRIPT_PAGE


# --- web UI ---------------------------------------------------------------------------------


def test_ui_pages_render(client: TestClient, archived: Archived) -> None:
    seed_id = article_id(client, archived.seed_url)
    edited_id = article_id(client, archived.edited_url)
    search = client.get("/search", params={"q": "قآني"})
    assert search.status_code == 200 and f"/articles/{seed_id}" in search.text
    assert "<mark>" in search.text
    article = client.get(f"/articles/{seed_id}")
    assert 'dir="rtl"' in article.text and "قاآني" in article.text
    diff = client.get(f"/articles/{edited_id}/diff", params={"a": 1, "b": 2})
    assert diff.status_code == 200 and "<ins" in diff.text and "<del" in diff.text
    for path in ("/", "/sites", "/crawls"):
        assert client.get(path).status_code == 200, path
    missing = client.get("/articles/999999", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "<html" in missing.text
    # Titles are escaped, never markup.
    assert "<title>" in article.text


def test_datetimes_are_utc_iso(client: TestClient) -> None:
    article = client.get("/api/articles", params={"limit": 1}).json()["articles"][0]
    assert datetime.fromisoformat(article["first_seen"]).tzinfo is not None
    assert datetime.fromisoformat(article["first_seen"]).utcoffset() == UTC.utcoffset(None)
