"""What the replay tests share: small real images, a colour count of a screenshot, and a news
site with its CDN on 127.0.0.1 and 127.0.0.2."""

from __future__ import annotations

import base64
import struct
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Colours the replay test looks for on the screen: none of them is in the archive's own UI.
PHOTO_RGB = (220, 20, 60)  # the article's picture, on the site's host
CDN_PHOTO_RGB = (0, 128, 128)  # a picture on the CDN, chosen from a srcset
HERO_RGB = (255, 200, 0)  # a background image named in the site's stylesheet
HEADLINE_RGB = (10, 120, 30)  # the site's stylesheet colours the headline
BYLINE_RGB = (200, 0, 100)  # the CDN's stylesheet colours the byline
# Real fonts for the @font-face rules: fonts-noto-core comes with chromium (scripts/browser.sh).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf"),
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (browsers decode it: naturalWidth, pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def colour_counts(page: Any, image: bytes, colours: list[tuple[int, int, int]]) -> list[int]:
    """How many pixels of a PNG (a screenshot) have each colour, give or take 4 per channel.

    Counted by the browser itself, on a canvas in ``page`` (a page of its own, with no
    network: the image is a data: URL), which is much faster than decoding in Python.
    """
    page.set_content("<!doctype html><title>pixels</title>")
    counts: list[int] = page.evaluate(
        """async ([data, colours]) => {
            const image = new Image();
            image.src = 'data:image/png;base64,' + data;
            await image.decode();
            const canvas = document.createElement('canvas');
            canvas.width = image.width;
            canvas.height = image.height;
            const context = canvas.getContext('2d');
            context.drawImage(image, 0, 0);
            const px = context.getImageData(0, 0, canvas.width, canvas.height).data;
            return colours.map(([r, g, b]) => {
                let n = 0;
                for (let i = 0; i < px.length; i += 4) {
                    if (Math.abs(px[i] - r) <= 4 && Math.abs(px[i + 1] - g) <= 4
                        && Math.abs(px[i + 2] - b) <= 4) n++;
                }
                return n;
            });
        }""",
        [base64.b64encode(image).decode(), colours],
    )
    return counts


def rgb(colour: tuple[int, int, int]) -> str:
    """A colour as CSS writes it and getComputedStyle answers it."""
    return "rgb({}, {}, {})".format(*colour)


def font_file() -> bytes:
    for path in FONT_CANDIDATES:
        if path.exists():
            return path.read_bytes()
    raise FileNotFoundError(
        f"no TrueType font among {[str(p) for p in FONT_CANDIDATES]}: run scripts/browser.sh"
    )


ARTICLE_PATH = "/news/2026/11/01/harbour-plan-approved.html"
NEXT_PATH = "/news/2026/11/02/ferry-timetable.html"
PARAGRAPHS = [
    "The city council approved the first part of the harbour plan on Tuesday evening after "
    "a debate that lasted well past midnight, with residents asking for more parking.",
    "Under the plan, the old ferry terminal will be rebuilt over three years, and the fish "
    "market will move to the northern quay once the new cold stores are finished.",
    "Opponents said the council had not answered questions about the cost of dredging the "
    "channel, which engineers estimate at twice the figure in the first proposal.",
    "The mayor said the harbour had waited forty years for a decision and that the city "
    "could not afford to lose the regional grant that pays for most of the work.",
    "A second vote on the southern quay is expected in the spring, after a public "
    "consultation that starts next month in the library and online.",
]


@dataclass
class NewsSiteWithCdn:
    """A news site on 127.0.0.1 whose article uses a picture, a stylesheet with a web font and
    a background image, and the same on a CDN at 127.0.0.2 (another host); the article also
    carries a meta refresh and a script that would take the reader to the CDN host."""

    requests: list[str] = field(default_factory=list)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def __enter__(self) -> NewsSiteWithCdn:
        for host in ("127.0.0.1", "127.0.0.2"):
            server = ThreadingHTTPServer((host, 0), self._handler())
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """The live site gone: both hosts stop answering."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def cdn(self) -> str:
        return f"http://127.0.0.2:{self._servers[1].server_address[1]}"

    @property
    def article_url(self) -> str:
        return self.site + ARTICLE_PATH

    def requisite_urls(self) -> list[str]:
        """Everything the article needs to be drawn, on both hosts."""
        return [
            self.site + "/static/site.css",
            self.site + "/static/photo.png",
            self.site + "/static/hero.png",
            self.site + "/static/face.ttf",
            self.cdn + "/cdn/theme.css",
            self.cdn + "/cdn/wide.png",
            self.cdn + "/cdn/fonts/cdn.ttf",
        ]

    def routes(self) -> dict[str, tuple[str, bytes]]:
        cdn = self.cdn
        paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
        article = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour plan approved</title><meta property="og:type" content="article">
<meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="/static/site.css">
<link rel="stylesheet" href="{cdn}/cdn/theme.css" crossorigin="anonymous">
<meta http-equiv="refresh" content="1; url={cdn}/from-meta-refresh">
</head><body><article>
<h1>Harbour plan approved</h1><p class="byline">By the harbour desk</p>
<img id="photo" src="/static/photo.png" width="160" height="100" alt="The harbour">
<img id="cdn-photo" srcset="{cdn}/cdn/wide.png 2x" width="160" height="100" alt="The quay">
<div class="hero"></div>{paragraphs}
<p><a id="more" href="{NEXT_PATH}">The new ferry timetable</a></p>
</article><script>window.location.href = "{cdn}/from-script";</script></body></html>"""
        home = f'<!doctype html><html><body><a href="{ARTICLE_PATH}">Harbour</a></body></html>'
        site_css = (
            "@font-face { font-family: ArchivedFace; src: url(face.ttf) format('truetype'); }\n"
            f"h1 {{ font-family: ArchivedFace, serif; color: {rgb(HEADLINE_RGB)}; }}\n"
            ".hero { width: 320px; height: 60px; background: url('/static/hero.png'); }\n"
            "body { margin: 8px; background: #fff; }\n"
        )
        cdn_css = (
            "@font-face { font-family: CdnFace; src: url(fonts/cdn.ttf); }\n"
            f".byline {{ font-family: CdnFace, sans-serif; color: {rgb(BYLINE_RGB)}; }}\n"
        )
        font = font_file()
        return {
            "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
            "/": ("text/html; charset=utf-8", home.encode()),
            ARTICLE_PATH: ("text/html; charset=utf-8", article.encode()),
            "/static/site.css": ("text/css", site_css.encode()),
            "/static/photo.png": ("image/png", png(160, 100, PHOTO_RGB)),
            "/static/hero.png": ("image/png", png(8, 8, HERO_RGB)),
            "/static/face.ttf": ("font/ttf", font),
            "/cdn/theme.css": ("text/css; charset=utf-8", cdn_css.encode()),
            "/cdn/wide.png": ("image/png", png(320, 200, CDN_PHOTO_RGB)),
            "/cdn/fonts/cdn.ttf": ("font/ttf", font),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.requests.append(f"{self.server.server_address[0]}{self.path}")
                found = site.routes().get(self.path.split("?", 1)[0])
                status, (content_type, body) = (
                    (200, found) if found else (404, ("text/html", b"<h1>Not found</h1>"))
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
