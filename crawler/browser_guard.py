"""The browser's SSRF guard: a SOCKS5 proxy on 127.0.0.1 that connects only where crawls may.

Playwright's ``route()`` sees each request a page makes, and ``crawler/browser_record.py``
refuses disallowed URLs there (:func:`url_refusal`). That alone is not enough: chromium
follows redirects without routing them, resolves host names itself (a DNS answer may change
between a check and the connection: DNS rebinding), and opens WebSockets outside ``route()``.
So chromium is launched with this proxy (Playwright then also proxies loopback, which chromium
otherwise bypasses): every connection it makes arrives here as a host name and a port; the
name is resolved here, every address is vetted by the crawl's :class:`NetworkPolicy`, and the
connection is made to the vetted address. Nothing else can be reached.

Chromium also talks to its vendor's services on its own (component updates, sign-in); those
connections are refused unless a page asked for that host (they are no page's, and tell the
vendor what is crawled).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.ssrf import NetworkPolicy, check_literal_host

__all__ = ["ConnectFailure", "GuardProxy", "url_refusal"]

logger = logging.getLogger(__name__)

# Hosts of the browser's own services (not of any page); refused unless a page asked for them.
_BROWSER_SERVICES = ("google.com", "googleapis.com", "gvt1.com")
_NOT_NETWORK = ("data", "blob", "about")

# SOCKS5 (RFC 1928) reply codes.
_OK, _FAILURE, _NOT_ALLOWED, _HOST_UNREACHABLE, _REFUSED, _TTL_EXPIRED = 0, 1, 2, 4, 5, 6
_COMMAND_NOT_SUPPORTED, _ADDRESS_NOT_SUPPORTED = 7, 8


@dataclass(frozen=True)
class ConnectFailure:
    """Why the proxy did not connect to a host and port: a fetch failure kind and a message."""

    kind: str  # ssrf | dns | timeout | refused | connection, or service (a browser service)
    message: str


def url_refusal(url: str, policy: NetworkPolicy) -> str | None:
    """Why a page may not request ``url`` (a scheme crawls do not use, a disallowed IP literal).

    Host names are vetted when connecting (:class:`GuardProxy`); ``data:``/``blob:`` URLs make
    no connection.
    """
    parts = urlsplit(url)
    if parts.scheme in _NOT_NETWORK:
        return None
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return f"scheme {parts.scheme}: is not crawled"
    return check_literal_host(parts.hostname or "", policy)


def _host_key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


class GuardProxy:
    """A SOCKS5 CONNECT proxy that vets every address under ``policy`` before connecting."""

    def __init__(self, policy: NetworkPolicy, *, connect_timeout: float) -> None:
        self.policy = policy
        self.connect_timeout = connect_timeout
        self.page_hosts: set[str] = set()
        self._failures: dict[tuple[str, int], ConnectFailure] = {}
        self._addresses: dict[tuple[str, int], str] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port, once); returns the proxy URL for chromium."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"socks5://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # What the page recorder asks ---------------------------------------------------------

    def note_page_host(self, host: str) -> None:
        """A page requested this host (from ``route()``): not a browser service connection."""
        self.page_hosts.add(_host_key(host))

    def failure(self, host: str, port: int) -> ConnectFailure | None:
        """Why the last connection to ``host:port`` failed, if it did."""
        return self._failures.get((_host_key(host), port))

    def address(self, host: str, port: int) -> str | None:
        """The address the last connection to ``host:port`` went to (WARC-IP-Address)."""
        return self._addresses.get((_host_key(host), port))

    # The proxy ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._session(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass  # the browser hung up, or spoke no SOCKS5
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        await reader.readexactly(count)
        if version != 5:
            return
        writer.write(b"\x05\x00")  # no authentication
        await writer.drain()
        version, command, _, address_type = await reader.readexactly(4)
        host = await self._read_host(reader, address_type)
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if host is None:
            await self._reply(writer, _ADDRESS_NOT_SUPPORTED)
            return
        if command != 1:  # CONNECT only: no BIND, no UDP ASSOCIATE
            await self._reply(writer, _COMMAND_NOT_SUPPORTED)
            return
        key = (_host_key(host), port)
        upstream = await self._connect(*key)
        if isinstance(upstream, ConnectFailure):
            self._failures[key] = upstream
            if upstream.kind == "ssrf":
                logger.warning("SSRF guard (browser): refused %s", upstream.message)
            await self._reply(writer, _reply_code(upstream))
            return
        up_reader, up_writer, address = upstream
        self._failures.pop(key, None)
        self._addresses[key] = address
        await self._reply(writer, _OK)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()

    @staticmethod
    async def _read_host(reader: asyncio.StreamReader, address_type: int) -> str | None:
        if address_type == 1:
            return socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        if address_type == 4:
            return socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        if address_type == 3:
            (length,) = await reader.readexactly(1)
            return (await reader.readexactly(length)).decode("idna")
        return None

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
        writer.write(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
        await writer.drain()

    async def _connect(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str] | ConnectFailure:
        if host not in self.page_hosts and _is_browser_service(host):
            return ConnectFailure("service", f"{host}: the browser's own service, no page's")
        addresses = await self._resolve(host, port)
        if isinstance(addresses, ConnectFailure):
            return addresses
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason is not None:
                literal = address == host
                return ConnectFailure("ssrf", reason if literal else f"{host} resolves to {reason}")
        last: ConnectFailure = ConnectFailure("connection", f"{host}: no address to connect to")
        for address in addresses:
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port), self.connect_timeout
                )
            except TimeoutError:
                last = ConnectFailure("timeout", f"{host}:{port}: connect timed out")
            except ConnectionRefusedError:
                last = ConnectFailure("refused", f"{host}:{port}: connection refused")
            except OSError as exc:
                last = ConnectFailure("connection", f"{host}:{port}: {exc.strerror or exc}")
            else:
                return up_reader, up_writer, address
        return last

    async def _resolve(self, host: str, port: int) -> list[str] | ConnectFailure:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.connect_timeout
            )
        except TimeoutError:
            return ConnectFailure("dns", f"{host}: DNS lookup timed out")
        except OSError as exc:
            return ConnectFailure("dns", f"{host}: DNS lookup failed ({exc.strerror or exc})")
        # Every answer is vetted, not only the one connected to: a name that resolves to an
        # internal address is refused whatever else it resolves to.
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_browser_service(host: str) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in _BROWSER_SERVICES)


def _reply_code(failure: ConnectFailure) -> int:
    return {
        "ssrf": _NOT_ALLOWED,
        "service": _NOT_ALLOWED,
        "dns": _HOST_UNREACHABLE,
        "refused": _REFUSED,
        "timeout": _TTL_EXPIRED,
    }.get(failure.kind, _FAILURE)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the end on (half-close), whatever the other way does."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()
    except asyncio.CancelledError:
        writer.close()
        raise
    finally:
        with contextlib.suppress(Exception):
            await writer.drain()
