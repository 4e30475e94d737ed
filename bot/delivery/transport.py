"""`AiohttpRequest`: python-telegram-bot's HTTP transport on aiohttp instead of httpx.

Profiling showed most of the desk's CPU per ticket going into PTB's default `HTTPXRequest`
(httpx, httpcore, anyio and h11 are pure Python); aiohttp, already the project's web server,
parses HTTP in C. PTB documents `BaseRequest` as the extension point for exactly this.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Final

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

log = logging.getLogger(__name__)

_FORM: Final = "application/x-www-form-urlencoded"
# (scheme, host, port) -> the proxy and its credentials from the environment, or two Nones.
_ProxyKey = tuple[str, str | None, int | None]
_Proxy = tuple[URL | None, aiohttp.BasicAuth | None]


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one `aiohttp.ClientSession`.

    The defaults are `HTTPXRequest`'s. How PTB's four timeouts map onto aiohttp (each may be
    given per call; `DEFAULT_NONE` means this instance's default, `None` means no limit):

    - `pool_timeout`: the wait for one of `connection_pool_size` slots. The slots are our own
      semaphore because aiohttp counts its pool wait into its connect timeout, and then a
      full pool could not be told apart from an unreachable server.
    - `connect_timeout`: `ClientTimeout.connect` and `sock_connect` (DNS, TCP, TLS, proxy).
    - `read_timeout`: `ClientTimeout.sock_read`, from the end of the request body to the first
      byte of the reply and between later chunks. It is per call because getUpdates asks for
      the long-poll timeout plus this instance's `read_timeout`.
    - `write_timeout`: aiohttp has none. A form body goes into the kernel's socket buffer at
      once, so it only matters for uploads: those get `ClientTimeout.total` = connect + write
      + read, with write defaulting to `media_write_timeout`. Other requests ignore it, hence
      no instance default for it.

    The usual `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` environment variables are honoured,
    as httpx honoured them: read once per Bot API host, like httpx reads them once per client.
    """

    __slots__ = (
        "_connect_timeout",
        "_form_headers",
        "_headers",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_slots",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._headers = {"User-Agent": self.USER_AGENT}
        self._form_headers = {**self._headers, "Content-Type": _FORM}
        # PTB builds its request objects before the event loop runs: everything bound to a
        # loop (session, connector, semaphore) is made in initialize().
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._proxies: dict[_ProxyKey, _Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (getUpdates adds its long-poll timeout to it)."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        """How many requests may be in flight at once."""
        return self._pool_size

    async def initialize(self) -> None:
        """Open the HTTP session in the running loop; again after a shutdown."""
        if self._session is not None and not self._session.closed:
            return
        self._slots = asyncio.Semaphore(self._pool_size)
        self._proxies = {}  # the environment may have changed since the last session
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            # Not trust_env=True: aiohttp then looks up the proxy and ~/.netrc in a worker
            # thread on every request, which doubled the cost of a call. _proxy() reads the
            # same environment variables through aiohttp's own helper, once per host.
            trust_env=False,
        )

    async def shutdown(self) -> None:
        """Close the HTTP session and its connections; harmless if not initialized."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and the raw body of the reply."""
        session, slots = self._session, self._slots
        if session is None or session.closed or slots is None:
            raise RuntimeError(
                "AiohttpRequest is not initialized: await initialize() (or use it as an "
                "async context manager) before sending requests"
            )

        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        uploads = request_data is not None and request_data.contains_files
        total: float | None = None
        if uploads:
            write = _given(write_timeout, self._media_write_timeout)
            if connect is not None and write is not None and read is not None:
                total = connect + write + read
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect, sock_connect=connect, sock_read=read
        )

        target = URL(url)
        proxy, proxy_auth = await self._proxy(target)
        headers = self._headers
        body: bytes | aiohttp.FormData | None = None
        if request_data is not None:
            if uploads:
                body = _multipart(request_data)
            elif request_data.json_parameters:
                # Encoded here rather than by aiohttp's FormData: the same bytes for less work.
                body = request_data.url_encoded_parameters().encode()
                headers = self._form_headers

        if slots.locked():
            try:
                async with asyncio.timeout(pool):
                    await slots.acquire()
            except TimeoutError:
                raise TimedOut(
                    f"Pool timeout: all {self._pool_size} connections were busy for {_secs(pool)}; "
                    "the request was not sent. Consider a larger connection pool or pool "
                    "timeout."
                ) from None
        else:
            await slots.acquire()  # free: returns at once
        try:
            async with session.request(
                method,
                target,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        # `from None` throughout: aiohttp's own messages may quote the URL, and the URL
        # carries the bot token; a chained cause would print it in every traceback.
        except TimeoutError as err:
            raise TimedOut(_timeout_message(err, url, connect, read, total)) from None
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_redact(str(err), url)}") from None
        finally:
            slots.release()

    async def _proxy(self, url: URL) -> _Proxy:
        key = (url.scheme, url.host, url.port)
        found = self._proxies.get(key)
        if found is None:
            try:
                # The lookup trust_env=True would make, in a thread as there: it may read
                # ~/.netrc for the proxy's credentials.
                found = await asyncio.to_thread(get_env_proxy_for_url, url)
            except LookupError:  # no proxy set for this scheme, or NO_PROXY names the host
                found = (None, None)
            self._proxies[key] = found
            if found[0] is not None:
                log.info("Bot API requests to %s go through the proxy %s", url.host, found[0])
        return found


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """The per-call timeout if the caller gave one (`None` included), else the default."""
    return default if isinstance(value, DefaultValue) else value


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    # quote_fields=False: file names go as UTF-8, as browsers and httpx send them; aiohttp's
    # default percent-encodes them, and Telegram would then show "%E5%B7%A5%E5%8D%95.csv"
    # for 工单.csv.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        # Bytes go in as a BytesIO: aiohttp then writes them in chunks as the socket drains
        # instead of buffering a whole 20 MB photo at once (and warning about it).
        file = io.BytesIO(content) if isinstance(content, bytes) else content
        form.add_field(name, file, filename=_form_filename(filename), content_type=mimetype)
    return form


# Unquoted, a line break in a file name would end the part's header early; httpx and the
# HTML5 form encoding percent-encode control characters and the double quote.
_UNSAFE_IN_FILENAME: Final = {c: f"%{c:02X}" for c in [*range(0x20), 0x7F] if c != 0x1B} | {
    ord('"'): "%22"
}


def _form_filename(filename: str) -> str:
    return filename.translate(_UNSAFE_IN_FILENAME)


def _timeout_message(
    err: TimeoutError, url: str, connect: float | None, read: float | None, total: float | None
) -> str:
    if isinstance(err, aiohttp.ConnectionTimeoutError):
        return (
            f"Connect timeout: no connection to the Bot API server within {_secs(connect)}; "
            "the request was not sent."
        )
    if isinstance(err, aiohttp.SocketTimeoutError):
        return f"Read timeout: the Bot API server sent nothing for {_secs(read)}."
    if total is not None:
        return f"Timed out: the upload and its reply took longer than {_secs(total)}."
    return f"Timed out: aiohttp.{type(err).__name__}: {_redact(str(err), url)}"


def _secs(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} s"


def _redact(text: str, url: str) -> str:
    """Hide the path of `url` (it holds the bot token) wherever `text` quotes it."""
    parsed = URL(url)
    hidden = f"{parsed.origin()}/…" if parsed.absolute else "…"
    for form in (url, str(parsed), parsed.human_repr()):
        text = text.replace(form, hidden)
    for path in (parsed.raw_path, parsed.path):
        if len(path) > 1:
            text = text.replace(path, "/…")
    return text
