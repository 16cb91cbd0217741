"""What the web process counts for Prometheus, one named function per event.

Counts only: labels take a few fixed values (a limit's name, a direction), never a room, peer or
address. Under gunicorn each worker counts for itself; with `PROMETHEUS_MULTIPROC_DIR` set,
prometheus-client keeps the counts in files there and `/metrics` sums every worker's
(`web_metrics`).
"""

from __future__ import annotations

from prometheus_client import Counter, disable_created_metrics

from praatbox.rooms.model import Decision, Send

# Rate limits, as the `limit` label names them.
TERM_LOOKUP = "term_lookup"
ROOMS_OPENED = "rooms_opened"
ROOM_PASSWORD = "room_password"
MODERATOR_CODE = "moderator_code"
SIGNALING_CONNECT = "signaling_connect"
SIGNALING_FLOOD = "signaling_flood"
RATE_LIMITS = (TERM_LOOKUP, ROOMS_OPENED, ROOM_PASSWORD, MODERATOR_CODE, SIGNALING_CONNECT,
               SIGNALING_FLOOD)
SECRETS = (ROOM_PASSWORD, MODERATOR_CODE)
IN, OUT = "in", "out"

# `*_created` samples would double the output and vanish in multiprocess mode anyway.
disable_created_metrics()

JOINS = Counter("praatbox_joins", "Participants admitted to a room (straight in, or let in "
                "from the waiting room).", registry=None)
KNOCKS = Counter("praatbox_knocks", "Participants put in the waiting room to knock.",
                 registry=None)
KICKS = Counter("praatbox_kicks", "Participants removed by the counsellor.", registry=None)
FAILED_PASSWORDS = Counter("praatbox_failed_passwords", "Wrong room passwords and wrong "
                           "moderator codes.", ["secret"], registry=None)
RATE_LIMITED = Counter("praatbox_rate_limited", "Requests refused (429) and signaling sockets "
                       "closed by a rate limit.", ["limit"], registry=None)
RESUMES = Counter("praatbox_resumes", "Participants back on a new signaling socket within the "
                  "grace period, with their identity and role.", registry=None)
RESUMES_REFUSED = Counter("praatbox_resumes_refused", "Resume attempts refused (a token that is "
                          "unknown, spent, expired or another browser's).", registry=None)
SIGNALING_MESSAGES = Counter("praatbox_signaling_messages", "WebSocket frames received from and "
                             "sent to browsers and relays.", ["direction"], registry=None)
SIGNALING_BYTES = Counter("praatbox_signaling_bytes", "Payload bytes (UTF-8) of those frames.",
                          ["direction"], registry=None)
ICE_RESTARTS = Counter("praatbox_ice_restarts", "Media paths lost and restarted, as browsers "
                       "report them: ICE restarts of direct connections and new connections to "
                       "the relay.", registry=None)

# This process's counters; `web_metrics` serves them unless it reads the multiprocess files.
COUNTERS = (JOINS, KNOCKS, KICKS, FAILED_PASSWORDS, RATE_LIMITED, RESUMES, RESUMES_REFUSED,
            SIGNALING_MESSAGES, SIGNALING_BYTES, ICE_RESTARTS)

# Each label value exists from the start: a rate() over a series that appears late misses its
# first increase.
for _name in RATE_LIMITS:
    RATE_LIMITED.labels(_name)
for _name in SECRETS:
    FAILED_PASSWORDS.labels(_name)
# Every frame passes here: the labelled children are looked up once.
FRAMES_IN, FRAMES_OUT = SIGNALING_MESSAGES.labels(IN), SIGNALING_MESSAGES.labels(OUT)
BYTES_IN, BYTES_OUT = SIGNALING_BYTES.labels(IN), SIGNALING_BYTES.labels(OUT)

# The messages of the room rules that mark an event, each sent once to the participant concerned
# (a resume is no join: it gets `resumed`, not `welcome`).
EVENT_MESSAGES = {"welcome": JOINS, "knocking": KNOCKS, "kicked": KICKS, "resumed": RESUMES}


def decisions_made(decisions: list[Decision]) -> None:
    """Count the joins, knocks, kicks and resumes among the decisions a hub carries out."""
    for decision in decisions:
        if isinstance(decision, Send):
            counter = EVENT_MESSAGES.get(decision.message.get("type", ""))
            if counter is not None:
                counter.inc()


def password_failed(secret: str) -> None:
    """Count a wrong room password (`ROOM_PASSWORD`) or moderator code (`MODERATOR_CODE`)."""
    FAILED_PASSWORDS.labels(secret).inc()


def resume_refused() -> None:
    """Count a resume attempt the room refused."""
    RESUMES_REFUSED.inc()


def rate_limited(limit: str) -> None:
    """Count one request or socket refused by the limit of that name (one of `RATE_LIMITS`)."""
    RATE_LIMITED.labels(limit).inc()


def ice_restart_reported() -> None:
    """Count one restart a browser reported (`ice-restart`): a count, never who or where."""
    ICE_RESTARTS.inc()


def signaling_received(frame: str | bytes) -> None:
    """Count a frame read from a browser's or relay's WebSocket."""
    FRAMES_IN.inc()
    BYTES_IN.inc(_size(frame))


def signaling_sent(frame: str) -> None:
    """Count a frame written to a browser's or relay's WebSocket."""
    FRAMES_OUT.inc()
    BYTES_OUT.inc(_size(frame))


def _size(frame: str | bytes) -> int:
    return len(frame.encode()) if isinstance(frame, str) else len(frame)
