"""Who gets in: the request-body limit and each client's fair share of Gradio's queue.

Gradio's queue (6.31) has a global ``max_size`` and per-event ``concurrency_limit`` /
``concurrency_id``, but nothing per client: one visitor who keeps 64 events queued refuses
everybody else, and the queue within a concurrency group is first come, first served. So:

* ``BodyLimit`` (ASGI middleware on Gradio's FastAPI app) refuses a request body larger than
  ``MAX_BODY_BYTES`` (uploads: ``UPLOAD_BODY_BYTES``) with 413, from its Content-Length or,
  without one, as soon as the streamed body passes the limit; nothing larger is read.
* ``FairShare.install(blocks)`` wraps the queue's ``push``: a client (its address; behind a
  trusted proxy, the address the proxy saw) may have at most ``PER_CLIENT_EVENTS`` jobs
  (events of the CPU-gated groups, ``GATED_IDS``) waiting or running, one session (browser
  tab) ``PER_SESSION_EVENTS``, and one client ``PER_CLIENT_COMPARES`` Compare jobs; its quick
  UI updates (every other event: no gate, milliseconds) are capped apart
  (``PER_CLIENT_QUICK``, ``PER_SESSION_QUICK``), so one page action's burst of them never
  refuses the job it goes with. A refusal is HTTP 429 with ``Retry-After`` and a
  message that says why and when to retry. An admitted event is placed in its group's queue
  by *rounds*: behind every client's first waiting event, then every client's second, and so
  on, so a newcomer's job waits for at most one job of each other client, not a flood of them.

Compare is its own concurrency group (one at a time); on the CPU it yields to quick jobs
between models (``colorlab.serving.scheduling``), so a quick job never waits behind more
than one model of one Compare.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os

from .limits import (
    COMPARE_SLOTS,
    MAX_BODY_BYTES,
    PER_CLIENT_COMPARES,
    PER_CLIENT_EVENTS,
    PER_CLIENT_QUICK,
    PER_SESSION_EVENTS,
    PER_SESSION_QUICK,
    QUEUE_SIZE,
    RETRY_AFTER,
    UPLOAD_BODY_BYTES,
)

log = logging.getLogger("colorlab.admission")   # every decision at DEBUG, every refusal at INFO
TRUSTED_PROXIES_ENV = "COLORLAB_TRUSTED_PROXIES"   # comma-separated addresses, or "*" (behind a Space's proxy)
COMPARE_ID = "compare"
INFERENCE_ID = "inference"                # the one-model jobs' group (colorlab.ui.common.INFERENCE)
GATED_IDS = frozenset({INFERENCE_ID, COMPARE_ID})   # groups whose events wait for the CPU gate


# ---------------------------------------------------------------- request bodies

def body_limit_for(path: str) -> int:
    """The largest body accepted for a request to ``path``: uploads carry a file."""
    return UPLOAD_BODY_BYTES if path.rstrip("/").endswith("/upload") else MAX_BODY_BYTES


def _mb(n: int) -> str:
    return f"{n / 1024 ** 2:.0f} MB"


class BodyLimit:
    """ASGI middleware: HTTP request bodies above ``body_limit_for(path)`` get 413."""

    def __init__(self, app, limit_for=body_limit_for):
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            return await self._refuse(send, 400, "The request's Content-Length is not a number.")
        if declared is not None and declared > limit:
            return await self._refuse(send, 413, f"The request is {_mb(declared)}; the limit is {_mb(limit)}.")
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, 413, f"The request is larger than the limit of {_mb(limit)}.")

    @staticmethod
    async def _refuse(send, status: int, message: str) -> None:
        body = json.dumps({"detail": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# ---------------------------------------------------------------- who is the client

def _trusted(environ=None) -> set[str] | str:
    """The trusted proxies: ``COLORLAB_TRUSTED_PROXIES``; on a Hugging Face Space (``SPACE_ID``)
    every request comes through its proxy, so by default any (``*``)."""
    env = os.environ if environ is None else environ
    raw = env.get(TRUSTED_PROXIES_ENV, "*" if env.get("SPACE_ID") else "")
    return "*" if raw.strip() == "*" else {a.strip() for a in raw.split(",") if a.strip()}


def client_key(request, trusted=None) -> str:
    """The client's address. Behind a trusted proxy (``COLORLAB_TRUSTED_PROXIES``): the last
    X-Forwarded-For entry that is not itself a trusted proxy (the address the proxy saw; what
    the client wrote further left is ignored, so it cannot pick its own identity)."""
    trusted = _trusted() if trusted is None else trusted
    host = getattr(getattr(request, "client", None), "host", None) or "unknown"
    if trusted == "*" or host in trusted:
        chain = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(chain):
            if trusted != "*" and hop in trusted:
                continue
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                break
    return host


# ---------------------------------------------------------------- the queue

class Refused(Exception):
    """A client over its share (or the queue full): ``status`` and a message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def is_job(concurrency_id) -> bool:
    """Whether an event of this concurrency group is a job (waits for the CPU gate)."""
    return concurrency_id in GATED_IDS


def check_share(mine: list, session: str, group, total: int, queue_size: int = QUEUE_SIZE) -> None:
    """Raise ``Refused`` if one more event of concurrency group ``group`` from session
    ``session`` of this client would exceed a limit. ``mine``: the client's events waiting or
    running (each with ``session_hash`` and ``concurrency_id``); ``total``: every waiting event.
    Jobs and quick updates are counted apart, each against its own caps."""
    wait = f"Please try again in {RETRY_AFTER} s."
    if total >= queue_size:
        raise Refused(503, f"The server is busy ({total} jobs waiting). {wait}")
    job = is_job(group)
    if group == COMPARE_ID and sum(1 for e in mine if e.concurrency_id == COMPARE_ID) >= PER_CLIENT_COMPARES:
        raise Refused(429, f"You already have a comparison of every model running or waiting; one at a time. "
                           f"Try again when it has finished (or in {RETRY_AFTER} s).")
    kind = [e for e in mine if is_job(e.concurrency_id) == job]
    same_session = sum(1 for e in kind if e.session_hash == session)
    per_session, per_client = (PER_SESSION_EVENTS, PER_CLIENT_EVENTS) if job else (PER_SESSION_QUICK, PER_CLIENT_QUICK)
    what = "jobs running or waiting" if job else "updates waiting"
    if same_session >= per_session:
        raise Refused(429, f"This page already has {same_session} {what} (the limit is {per_session}). {wait}")
    if len(kind) >= per_client:
        raise Refused(429, f"Your address already has {len(kind)} {what} (the limit is {per_client}). {wait}")


def fair_position(queue: list, key_of, key: str) -> int:
    """Where a new event of client ``key`` goes in ``queue`` (a concurrency group's waiting
    events, in order): before the first event whose round (how many of its client's events
    are ahead of it) is later than the newcomer's (how many of ``key``'s events wait)."""
    mine = sum(1 for e in queue if key_of(e) == key)
    seen: dict[str, int] = {}
    for i, e in enumerate(queue):
        k = key_of(e)
        if seen.get(k, 0) > mine:
            return i
        seen[k] = seen.get(k, 0) + 1
    return len(queue)


class FairShare:
    """Per-client caps and round-robin order for a Gradio ``Blocks``' queue (see the module)."""

    def __init__(self, trusted=None):
        self.trusted = trusted
        self.refusals = 0

    def key(self, event) -> str:
        return getattr(event, "colorlab_client", None) or client_key(event.request, self.trusted)

    def install(self, blocks) -> FairShare:
        queue = blocks._queue
        original = queue.push

        async def push(body, request, username):
            key = client_key(request, self.trusted)
            fn = _fn_of(blocks, body)
            waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
            running = [e for job in queue.active_jobs if job for e in job]
            mine = [e for e in waiting + running if self.key(e) == key]
            group = getattr(fn, "concurrency_id", None)
            try:
                check_share(mine, body.session_hash, group, len(waiting), queue.max_size or QUEUE_SIZE)
            except Refused as exc:
                self.refusals += 1
                log.info("refused %s (%s) session=%s: %s", _name_of(fn), group, body.session_hash, exc.message)
                from fastapi import HTTPException
                raise HTTPException(exc.status, exc.message, headers={"Retry-After": str(RETRY_AFTER)}) from None
            log.debug("admitted %s (%s) session=%s holding %d (client %d)", _name_of(fn), group, body.session_hash,
                      sum(1 for e in mine if e.session_hash == body.session_hash), len(mine))
            success, event_id, state = await original(body, request, username)
            if success and state == "success":
                self._reorder(queue, event_id, key)
            return success, event_id, state

        queue.push = push
        return self

    def _reorder(self, queue, event_id: str, key: str) -> None:
        event = queue.event_ids_to_events.get(event_id)
        if event is None:
            return
        event.colorlab_client = key
        group = queue.event_queue_per_concurrency_id.get(event.concurrency_id)
        if group is None or event not in group.queue:
            return
        group.queue.remove(event)     # (no await in between: the queue's task cannot interleave)
        group.queue.insert(fair_position(group.queue, self.key, key), event)


def _fn_of(blocks, body):
    try:
        return blocks.fns[body.fn_index] if body.fn_index is not None else None
    except (KeyError, IndexError, TypeError):
        return None


def _name_of(fn) -> str:
    return getattr(getattr(fn, "fn", None), "__name__", None) or "?"


def launch_options() -> dict:
    """Keyword arguments for ``Blocks.launch`` that apply these limits (with ``limits``): the
    body limit as middleware, Gradio's own upload limit, no monitoring endpoints, no error
    details beyond what the handlers' wrapper writes."""
    from starlette.middleware import Middleware

    from .limits import MAX_UPLOAD_BYTES
    return {"max_file_size": MAX_UPLOAD_BYTES, "enable_monitoring": False, "show_error": False,
            "app_kwargs": {"middleware": [Middleware(BodyLimit)]}}


__all__ = ["COMPARE_ID", "COMPARE_SLOTS", "GATED_IDS", "INFERENCE_ID", "BodyLimit", "FairShare", "Refused",
           "body_limit_for", "check_share", "client_key", "fair_position", "is_job", "launch_options"]
