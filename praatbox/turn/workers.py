"""Several TURN processes on one port (``PRAATBOX_TURN_WORKERS``), for more than one core.

Every worker binds the listeners with ``SO_REUSEPORT``. The kernel picks the UDP socket of a
reuseport group by a hash of the datagram's 4-tuple, so a client's datagrams always reach the
worker that holds its allocation; a TCP or TLS connection stays with the worker that accepted
it; a relay port is bound (exclusively) by the worker whose allocation owns it. So allocations
need no sharing. Two things are shared, both set up before the fork:

* the nonce key: a nonce from one worker is good at another (a TCP client that reconnects);
* which relay ports are live: on the server's own address a peer may only be another
  allocation's relay port (``peers.PeerPolicy``), and that allocation may live in any worker.

Quotas, connection caps and budgets stay per worker (see docs/turn.md). A worker that exits
takes the others down: the service manager restarts the server as a whole.
"""

import logging
import mmap
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

logger = logging.getLogger(__name__)

PORT_COUNT = 65536


class SharedPortSet:
    """A set of port numbers in memory shared with forked children (one byte per port).

    Each port is written by one process at a time (the one whose relay socket is bound to it),
    and a byte is written atomically: no lock is needed.
    """

    def __init__(self) -> None:
        self._bytes = mmap.mmap(-1, PORT_COUNT)  # anonymous and MAP_SHARED

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and 0 <= port < PORT_COUNT and self._bytes[port] == 1

    def add(self, port: int) -> None:
        self._bytes[port] = 1

    def discard(self, port: int) -> None:
        self._bytes[port] = 0


@dataclass(frozen=True)
class WorkerShare:
    """What one worker knows of the others: its index, their number, the shared state."""

    index: int
    count: int
    nonce_key: bytes
    live_relay_ports: SharedPortSet


def run_workers(count: int, serve: Callable[[WorkerShare], None]) -> int:
    """Fork ``count`` processes running ``serve``; return the exit status for the parent.

    SIGTERM or SIGINT to the parent stops every worker; a worker that exits stops the others.
    """
    ports, nonce_key = SharedPortSet(), secrets.token_bytes(32)
    children: dict[int, int] = {}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _terminate(children)

    # Before forking, so that a SIGTERM during start-up stops the workers already forked.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            _run_child(serve, WorkerShare(index, count, nonce_key, ports))
        children[pid] = index
    status = 0
    while children:
        pid, wait_status = os.wait()
        if pid not in children:
            continue
        index = children.pop(pid)
        if stopping:
            continue
        logger.warning("TURN worker %d exited (status %d): stopping the others", index,
                       os.waitstatus_to_exitcode(wait_status))
        status = 1
        stopping = True
        _terminate(children)
    return status


def _run_child(serve: Callable[[WorkerShare], None], share: WorkerShare) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers with SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # until the worker's loop handles it
    code = 0
    try:
        serve(share)
    except BaseException:  # the parent reports the exit; the traceback goes to the log
        logger.exception("TURN worker %d failed", share.index)
        code = 1
    finally:
        os._exit(code)


def _terminate(children: dict[int, int]) -> None:
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
