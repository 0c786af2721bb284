"""The errors a service raises; each front end maps them to an exit code or an HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """A use case could not be carried out; the message names the thing and the fix."""


class NotFound(ServiceError):
    """The named site, schedule or job does not exist (CLI exit 1, HTTP 404)."""


class Conflict(ServiceError):
    """The request clashes with what is stored (CLI exit 1, HTTP 409)."""


class Invalid(ServiceError):
    """A bad argument or a mode that cannot do this (CLI exit 2, HTTP 400)."""
