"""What ops and archivists do, in one place: sites, schedules, crawls, exports.

The command line, the HTTP API, the web UI and the Celery tasks call these functions and only
translate arguments and answers; a rule (who may remove a site, where a schedule goes, how a
failed crawl is recorded) is written once, here. Errors are :mod:`newsvault.services.errors`
exceptions whose message names the thing and the fix; each front end maps them to its own
form (an exit code, an HTTP status).
"""
