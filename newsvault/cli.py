"""The ``newsvault`` command line: the app, its core commands, and the command groups.

Command groups live in their own modules (``cli_sites``, ``cli_ops``, ``cli_archive``,
``cli_processing``, ``cli_web``), each with a ``register(app)``; they share the helpers of
``cli_common`` and never import this module, so the imports run one way.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from newsvault import (
    cli_archive,
    cli_ops,
    cli_processing,
    cli_sites,
    cli_web,
    output,
    worker_watchdog,
)
from newsvault.cli_common import (
    Format,
    FormatOption,
    console,
    errors,
    fail,
    parse_when,
    print_json,
    ready_index,
    settings_or_exit,
    show_article,
    warn,
)
from newsvault.cli_text import styled
from newsvault.config import ConfigError

app = typer.Typer(
    name="newsvault",
    help="Crawl news sites, archive every capture in WARC, and retrieve every version.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# How long `newsvault worker` waits before starting again after dying of an error, and how
# long its shutdown may take after an unrecoverable error before it starts over regardless.
WORKER_RESTART_DELAY = 2.0
WORKER_SHUTDOWN_GRACE = 15.0


# Commands --------------------------------------------------------------------------------


@app.command()
def demo(
    port: Annotated[
        int | None, typer.Option(help="Port of the sample site (NEWSVAULT_SAMPLE_SITE_PORT).")
    ] = None,
) -> None:
    """Serve the bundled sample news site, crawl it, archive and process everything."""
    from newsvault.demo import DemoError, run_demo
    from newsvault.sample_site import ARABIC_ARTICLE_PATH

    settings = ready_index(settings_or_exit())
    try:
        summary = run_demo(settings, port=port, console=console)
    except DemoError as exc:
        fail(str(exc), 2)
    output.job_summary(console, summary)
    base_url = f"http://127.0.0.1:{port or settings.sample_site_port}"
    output.next_steps(console, summary, example=base_url + ARABIC_ARTICLE_PATH)
    if summary.state != "done":
        raise typer.Exit(1)


@app.command()
def crawl(
    target: Annotated[str, typer.Argument(help="A site name (`newsvault sites list`) or a URL.")],
    concurrency: Annotated[int | None, typer.Option(min=1, max=64)] = None,
    delay: Annotated[float | None, typer.Option(min=0.0, help="Seconds between requests.")] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="With a broker: follow the crawl and its processing to the end.",
        ),
    ] = False,
    format: FormatOption = Format.text,
) -> None:
    """Crawl a site now: fetch, archive raw, process every article.

    Without a broker the crawl runs here; with one it is queued for a crawl worker.
    """
    from newsvault.services.crawls import UnknownTarget, create_job, run_job_here
    from newsvault.summary import summarize_job
    from storage.db import session_scope

    settings = ready_index(settings_or_exit())
    options = {
        k: v for k, v in {"concurrency": concurrency, "delay": delay}.items() if v is not None
    }
    try:
        job_id = create_job(settings, target, options=options)
    except UnknownTarget as exc:
        fail(str(exc), 2)
    if not settings.embedded:
        from newsvault.cli_ops import queue_crawl

        state = queue_crawl(settings, job_id, target, wait=wait)
        if state == "queued":
            if format is Format.json:
                print_json({"job_id": job_id, "state": state})
            return
    else:
        with output.crawl_progress(console, target) as report:
            run_job_here(settings, job_id, on_progress=report)
    with session_scope(settings.index_url) as session:
        summary = summarize_job(session, job_id)
    if format is Format.json:
        print_json(output.summary_dict(summary))
    else:
        output.job_summary(console, summary)
    if summary.state != "done":
        raise typer.Exit(1)


@app.command()
def articles(
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    format: FormatOption = Format.text,
) -> None:
    """List archived articles: URL, title, language, number of versions."""
    from storage.db import session_scope
    from storage.retrieval import list_articles

    settings = ready_index(settings_or_exit())
    with session_scope(settings.index_url) as session:
        found = list_articles(session, limit=limit)
    if format is Format.json:
        print_json([output.article_dict(a) for a in found])
    else:
        output.article_table(console, found)


@app.command()
def show(
    url: Annotated[str, typer.Argument(help="The article's URL (canonical or any variant).")],
    at: Annotated[
        str | None, typer.Option(help="ISO datetime: the capture closest to it (Memento rule).")
    ] = None,
    raw: Annotated[
        bool, typer.Option(help="The exact bytes as fetched, not the cleaned text.")
    ] = False,
    headers: Annotated[bool, typer.Option(help="With --raw: the HTTP headers too.")] = False,
    format: FormatOption = Format.text,
) -> None:
    """Show an archived article: the cleaned version, or the raw capture with --raw."""
    from storage.db import session_scope
    from storage.retrieval import (
        NotArchived,
        capture_at,
        capture_timeline,
        payload_capture,
        version_at,
    )

    settings = ready_index(settings_or_exit())
    when = parse_when(at, "--at") if at else None
    with session_scope(settings.index_url) as session:
        try:
            if raw:
                capture = (
                    capture_at(session, url, when) if when else capture_timeline(session, url)[-1]
                )
                output.raw_capture(
                    settings, payload_capture(session, capture), with_headers=headers
                )
                return
            article, version = version_at(session, url, when)
        except NotArchived as exc:
            fail(str(exc))
        document = output.version_dict(article, version)
        document["cluster"] = output.cluster_members(session, article)
    show_article(document, format)


@app.command()
def extract(
    url: Annotated[str, typer.Option(help="The page's URL (resolves links, guides metadata).")] = (
        "http://localhost/"
    ),
    content_type: Annotated[
        str | None, typer.Option(help="The Content-Type header the page came with.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language hint, e.g. ar.")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Extract one article from HTML on standard input; archives nothing."""
    from processing.decode import decode_html
    from processing.extract import NotAnArticle, extract_article
    from vocabulary.normalize import clean_text

    body = sys.stdin.buffer.read()
    if not body.strip():
        fail("no HTML on standard input; try `newsvault extract < page.html`", 2)
    page = decode_html(body, content_type, language_hint=language)
    if page.suspicious and page.note:
        warn(page.note)
    result = extract_article(page.text, url, language_hint=language)
    if isinstance(result, NotAnArticle):
        if format is Format.json:
            print_json({"article": False, "reason": result.reason, "encoding": page.encoding})
        else:
            errors.print(f"not an article: {result.reason}", highlight=False)
        raise typer.Exit(1)
    document = output.extracted_dict(result, clean_text)
    document["encoding"] = page.encoding
    show_article(document, format)


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues: crawl, process.")] = (
        "crawl,process"
    ),
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 2,
    loglevel: Annotated[str, typer.Option()] = "INFO",
    name: Annotated[
        str | None, typer.Option(help="Worker name (several workers on one host need their own).")
    ] = None,
) -> None:
    """Run a Celery worker with newsvault's configuration (needs NEWSVAULT_BROKER_URL).

    Scale processing with more workers: `newsvault worker --queues process --concurrency N`.
    """
    settings = ready_index(settings_or_exit())
    if settings.embedded:
        fail("a worker needs a broker: set NEWSVAULT_BROKER_URL=redis://127.0.0.1:6379/0", 2)
    unknown = set(queues.split(",")) - {"crawl", "process"}
    if unknown:
        fail(f"--queues: unknown queue {', '.join(sorted(unknown))}; use crawl and/or process", 2)
    from celery.signals import worker_ready

    from tasks.celery_app import app as celery_app

    if "process" in queues.split(","):
        # Loaded before the pool forks (trafilatura, lxml, numpy, the language model...):
        # every child, and every child that replaces one, starts warm instead of loading
        # them during its first task.
        import tasks.pipeline  # noqa: F401
        from processing.language import load_model

        load_model()

    became_ready: list[bool] = []

    def on_ready(**_: object) -> None:
        became_ready.append(True)
        # Once Celery has set up its logging: if it gives up after a broker loss and its
        # shutdown then hangs, start over anyway.
        worker_watchdog.install(grace=WORKER_SHUTDOWN_GRACE)

    worker_ready.connect(on_ready, weak=False)
    try:
        celery_app.worker_main(
            [
                "worker",
                "--queues",
                queues,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                loglevel,
                "--without-gossip",
                "--without-mingle",
                *(["--hostname", f"{name}@%h"] if name else []),
            ]
        )
    except SystemExit as stopped:
        if stopped.code in (0, None) or not became_ready:
            raise
        # A worker that ran and then died of an error: kombu's Redis transport can fail with
        # "Unrecoverable error" when the broker goes away while a late-acked task is in
        # flight (restoring it needs the connection that just closed). The message is safe
        # in Redis's unacked set, so start over, as a supervisor would.
        warn(
            f"worker stopped with an error (exit {stopped.code}); starting again in "
            f"{WORKER_RESTART_DELAY:.0f} s"
        )
        time.sleep(WORKER_RESTART_DELAY)
        os.execv(sys.executable, [sys.executable, *sys.argv])


@app.command()
def beat(loglevel: Annotated[str, typer.Option()] = "INFO") -> None:
    """Run the scheduler (one active at a time; a second waits as a standby)."""
    settings = ready_index(settings_or_exit())
    if settings.embedded:
        fail("beat needs a broker: set NEWSVAULT_BROKER_URL=redis://127.0.0.1:6379/0", 2)
    from tasks.celery_app import app as celery_app

    # KeyedScheduler: RedBeat plus an idempotency key per scheduled run (tasks/schedules.py).
    celery_app.start(
        ["beat", "--scheduler", "tasks.schedules.KeyedScheduler", "--loglevel", loglevel]
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the archive over HTTP: the JSON API, Memento and the web UI."""
    import uvicorn

    from newsvault.api import create_app

    settings = ready_index(settings_or_exit())
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


for _module in (cli_sites, cli_archive, cli_processing, cli_web, cli_ops):
    _module.register(app)


def main() -> None:
    """Console-script entry point: turns known failures into one-line messages."""
    from storage.db import IndexUnavailable

    try:
        app()
    except (ConfigError, IndexUnavailable) as exc:
        errors.print(styled("[bold red]error:[/] {message}", message=exc), soft_wrap=True)
        sys.exit(2)
