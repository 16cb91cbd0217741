"""Deliver the hub's decisions to sockets on any web process, through Redis pub/sub.

Each process subscribes to a channel of its own. One Redis hash says which process holds each
socket (peer or relay id → process id). A decision for a socket of this process goes straight
to its outbox; any other is published, as JSON, on the channel of the process that holds it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Any

import redis

from praatbox import web_counters
from praatbox.hub import Outbox
from praatbox.rooms.model import Close, Decision, Send
from praatbox.signaling.protocol import ProtocolError

logger = logging.getLogger(__name__)

PREFIX = "praatbox:"
WHERE_KEY = PREFIX + "where"  # hash: peer or relay id → process id
# Delete a socket's entry only if it still names this process (atomically).
_DETACH_IF_HERE = """
if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('hdel', KEYS[1], ARGV[1])
end
return 0
"""
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
RESUBSCRIBE_DELAY_SECONDS = 1.0


def channel_of(process_id: str) -> str:
    return f"{PREFIX}process:{process_id}"


class Delivery:
    """The outboxes of this process's sockets, and the way to everyone else's."""

    def __init__(self, client: Any) -> None:
        self.redis: Any = client  # decode_responses=True
        self.process_id = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._outboxes: dict[str, Outbox] = {}
        self._stopped = False
        self._pubsub = client.pubsub()
        self._pubsub.subscribe(channel_of(self.process_id))
        self._wait_until_subscribed()
        # A greenlet under gunicorn's gevent worker (it monkey-patches threads and sockets).
        self._listener = threading.Thread(target=self._listen, daemon=True)
        self._listener.start()

    def attach(self, peer_id: str, outbox: Outbox) -> None:
        with self._lock:
            self._outboxes[peer_id] = outbox
        self.redis.hset(WHERE_KEY, peer_id, self.process_id)

    def detach(self, peer_id: str, outbox: Outbox | None = None) -> None:
        """Forget a socket; `outbox`: only if it is still this one (after a resume, the peer id
        may belong to a newer socket, here or on another process)."""
        with self._lock:
            if outbox is not None and self._outboxes.get(peer_id, outbox) is not outbox:
                return
            self._outboxes.pop(peer_id, None)
        if outbox is None:
            self.redis.hdel(WHERE_KEY, peer_id)
        else:
            self.redis.eval(_DETACH_IF_HERE, 1, WHERE_KEY, peer_id, self.process_id)

    def deliver(self, decisions: list[Decision]) -> None:
        """Publish to other processes first (and wait for Redis), then fill local outboxes: a
        local peer's reaction can then never overtake what the same change sent elsewhere."""
        web_counters.decisions_made(decisions)
        with self._lock:
            here = {d.peer for d in decisions if d.peer in self._outboxes}
        remote = [d for d in decisions if d.peer not in here]
        if remote:
            where = self.redis.hmget(WHERE_KEY, [d.peer for d in remote])
            pipe = self.redis.pipeline(transaction=False)
            for decision, process_id in zip(remote, where, strict=True):
                if process_id is not None and process_id != self.process_id:
                    pipe.publish(channel_of(process_id), _envelope(decision))
            pipe.execute()
        for decision in decisions:
            if decision.peer in here:
                self._deliver_here(decision)

    def _deliver_here(self, decision: Decision) -> None:
        with self._lock:
            outbox = self._outboxes.get(decision.peer)
            if outbox is not None and isinstance(decision, Close):
                self._outboxes.pop(decision.peer, None)
        if outbox is None:
            return
        if isinstance(decision, Send):
            outbox.put(decision.message)
        else:
            outbox.end(decision.reason)

    def _wait_until_subscribed(self) -> None:
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            item = self._pubsub.get_message(timeout=0.1)
            if item is not None and item["type"] == "subscribe":
                return
        raise redis.exceptions.ConnectionError("no subscription confirmation from Redis")

    def _listen(self) -> None:
        while not self._stopped:
            try:
                for item in self._pubsub.listen():
                    if item["type"] == "message":
                        self._received(item["data"])
            except Exception:  # noqa: BLE001 - Redis restarted, or closed by `close`
                if self._stopped:
                    return
                logger.warning("hub: lost the Redis subscription; retrying", exc_info=True)
                time.sleep(RESUBSCRIBE_DELAY_SECONDS)

    def _received(self, text: str) -> None:
        try:
            data = json.loads(text)
            peer = str(data["to"])
            decision: Decision = (Close(peer, str(data["close"])) if "close" in data
                                  else Send(peer, dict(data["message"])))
        except (ValueError, KeyError, TypeError):
            logger.warning("hub: dropped a malformed message from the Redis channel")
            return
        try:
            self._deliver_here(decision)
        except ProtocolError as error:  # e.g. over the forward size: drop it, keep listening
            logger.info("hub: dropped a message for a local peer (%s)", error.code)

    def close(self) -> None:
        """Stop listening (tests; a web process just exits)."""
        self._stopped = True
        try:
            self._pubsub.unsubscribe()
            self._pubsub.close()
        except redis.RedisError:
            pass
        self._listener.join(timeout=2)


def _envelope(decision: Decision) -> str:
    if isinstance(decision, Send):
        return json.dumps({"to": decision.peer, "message": decision.message})
    return json.dumps({"to": decision.peer, "close": decision.reason})
