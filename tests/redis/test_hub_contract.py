"""One set of room scenarios, run against MemoryHub, one RedisHub, and two RedisHubs sharing a
Redis (participants alternate between them, like sockets on two web processes)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from praatbox.hub.memory import MemoryHub
from praatbox.hub.redis_store import RedisHub
from praatbox.rooms.model import Banned
from praatbox.rooms.passwords import hash_password
from praatbox.rooms.registry import ROOM_ATTEMPTS_WARNING, RoomRegistry

WAIT_SECONDS = 3.0
GRACE_SECONDS = 0.3
RETURN_DELAY_SECONDS = 0.2
_rooms = itertools.count()


class Recorder:
    """An outbox that remembers what it got; remote deliveries arrive a moment later."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.ended: str | None = None
        self._changed = threading.Condition()

    def put(self, message: dict) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def end(self, reason: str) -> None:
        with self._changed:
            self.ended = reason
            self._changed.notify_all()

    def take(self, kind: str) -> dict:
        """Remove and return the first message of a type, waiting for it if need be."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(m["type"] == kind for m in self.messages), WAIT_SECONDS)
            assert found, f"no {kind!r} in {self.messages}"
            message = next(m for m in self.messages if m["type"] == kind)
            self.messages.remove(message)
            return message

    def wait_ended(self) -> str:
        with self._changed:
            assert self._changed.wait_for(lambda: self.ended is not None, WAIT_SECONDS)
            assert self.ended is not None
            return self.ended


class Site:
    """The hubs of one deployment; participant number i connects to hub i modulo their count."""

    def __init__(self, hubs: list, fake_clock: list[float] | None) -> None:
        self.hubs = hubs
        self._fake_clock = fake_clock
        self.room = f"room{next(_rooms)}"

    def hub(self, index: int = 0):
        return self.hubs[index % len(self.hubs)]

    def connect(self, index: int, moderator: bool = False) -> tuple[str, Recorder]:
        outbox = Recorder()
        peer = f"p{index}"
        self.hub(index).connect(self.room, peer, f"v{index}", moderator, outbox)
        return peer, outbox

    def let_empty_rooms_expire(self) -> None:
        if self._fake_clock is not None:
            self._fake_clock[0] += 11 + GRACE_SECONDS  # past the grace and the sweep interval
        else:
            time.sleep(GRACE_SECONDS + 0.2)


def registry() -> RoomRegistry:
    return RoomRegistry(empty_grace_seconds=GRACE_SECONDS,
                        fingerprint=lambda room_id: "fp-" + room_id)


@pytest.fixture(params=["memory", "redis", "redis-two-processes"])
def site(request):
    if request.param == "memory":
        clock = [1000.0]
        yield Site([MemoryHub(registry(), clock=lambda: clock[0],
                              return_delay_seconds=RETURN_DELAY_SECONDS)], clock)
        return
    client = request.getfixturevalue("redis_client")
    count = 2 if request.param == "redis-two-processes" else 1
    hubs = [RedisHub(client, registry(), return_delay_seconds=RETURN_DELAY_SECONDS)
            for _ in range(count)]
    yield Site(hubs, None)
    for hub in hubs:
        hub.close()


def counsellor_and_client(site: Site):
    site.hub().open_room(site.room, "mod-hash")
    mod, mod_box = site.connect(0, moderator=True)
    mod_box.take("welcome")
    client, client_box = site.connect(1)
    client_box.take("welcome")
    mod_box.take("peer-joined")
    return (mod, mod_box), (client, client_box)


def test_counsellor_and_client_meet_exchange_signals_and_hang_up(site):
    site.hub().open_room(site.room, "mod-hash")
    assert site.hub(1).room_is_open(site.room)
    mod, mod_box = site.connect(0, moderator=True)
    welcome = mod_box.take("welcome")
    assert welcome["moderator"] is True and welcome["peers"] == [] and welcome["mode"] == "p2p"
    client, client_box = site.connect(1)
    welcome = client_box.take("welcome")
    assert welcome["moderator"] is False and welcome["peers"] == [mod]
    assert mod_box.take("peer-joined")["peer"] == client
    offer = {"description": {"type": "offer", "sdp": "v=0"}}
    site.hub(1).handle(site.room, client, {"type": "signal", "to": mod, "data": offer})
    assert mod_box.take("signal") == {"type": "signal", "from": client, "data": offer}
    answer = {"type": "signal", "to": client, "data": {"candidate": None}}
    site.hub(0).handle(site.room, mod, answer)
    assert client_box.take("signal")["from"] == mod
    assert site.hub().counts() == (1, 2)
    site.hub(1).disconnect(site.room, client, "hangup")
    assert mod_box.take("peer-left") == {"type": "peer-left", "peer": client, "reason": "hangup"}
    assert site.hub().counts() == (1, 1)


def test_a_third_participant_sees_both_and_the_room_becomes_a_mesh_without_relays(site):
    (mod, mod_box), (client, client_box) = counsellor_and_client(site)
    third, third_box = site.connect(2)
    welcome = third_box.take("welcome")
    assert welcome["peers"] == [mod, client] and welcome["mode"] == "mesh"
    assert mod_box.take("mode")["mode"] == "mesh"
    assert client_box.take("mode")["mode"] == "mesh"
    site.hub(2).disconnect(site.room, third, "hangup")
    assert mod_box.take("mode")["mode"] == "p2p"


def test_a_third_person_knocks_on_a_locked_room_and_is_admitted(site):
    (mod, mod_box), (_, client_box) = counsellor_and_client(site)
    site.hub(1).set_password(site.room, hash_password("open sesame"))
    assert mod_box.take("locked")["locked"] is True
    assert client_box.take("locked")["locked"] is True
    knocker, knocker_box = site.connect(3)
    knocker_box.take("knocking")
    assert mod_box.take("knock")["peer"] == knocker
    site.hub(0).handle(site.room, mod, {"type": "admit", "peer": knocker})
    assert len(knocker_box.take("welcome")["peers"]) == 2


def test_a_denied_knocker_is_told_and_disconnected(site):
    (mod, mod_box), _ = counsellor_and_client(site)
    site.hub().set_password(site.room, hash_password("open sesame"))
    knocker, knocker_box = site.connect(3)
    mod_box.take("knock")
    site.hub(0).handle(site.room, mod, {"type": "deny", "peer": knocker})
    knocker_box.take("denied")
    assert knocker_box.wait_ended() == "denied"


def test_a_kicked_client_is_disconnected_and_banned(site):
    (mod, mod_box), (client, client_box) = counsellor_and_client(site)
    site.hub(0).handle(site.room, mod, {"type": "kick", "peer": client})
    client_box.take("kicked")
    assert client_box.wait_ended() == "kicked"
    assert mod_box.take("peer-left")["reason"] == "kicked"
    site.hub(1).disconnect(site.room, client, "disconnected")  # what the socket handler does
    lock = site.hub(1).lock_state(site.room)
    assert lock is not None and "v1" in lock.banned
    with pytest.raises(Banned):
        site.connect(1)


def test_ending_for_all_closes_every_socket_and_marks_the_terms_as_used(site):
    (mod, mod_box), (_, client_box) = counsellor_and_client(site)
    assert not site.hub(1).recently_used(site.room)
    site.hub(0).handle(site.room, mod, {"type": "end"})
    for box in (mod_box, client_box):
        box.take("ended")
        assert box.wait_ended() == "ended"
    assert not site.hub(1).room_is_open(site.room)
    assert site.hub(1).lock_state(site.room) is None
    assert site.hub(1).recently_used(site.room)
    assert site.hub().counts() == (0, 0)


def test_a_running_room_keeps_its_moderator_code_when_opened_again(site):
    assert site.hub(0).open_room(site.room, "first-hash") is True
    assert site.hub(1).open_room(site.room, "second-hash") is False
    assert site.hub(1).lock_state(site.room).moderator_hash == "first-hash"


def test_after_a_kick_a_newcomer_knocks_and_the_counsellor_is_told(site):
    (mod, mod_box), (client, _) = counsellor_and_client(site)
    site.hub(0).handle(site.room, mod, {"type": "kick", "peer": client})
    assert mod_box.take("waiting-room") == {"type": "waiting-room", "on": True}
    newcomer, newcomer_box = site.connect(5)  # another visitor id: a fresh cookie
    newcomer_box.take("knocking")
    assert mod_box.take("knock")["peer"] == newcomer
    site.hub(0).handle(site.room, mod, {"type": "admit", "peer": newcomer})
    assert newcomer_box.take("welcome")["peers"] == [mod]


def test_the_password_hash_and_its_version_are_what_the_views_see(site):
    site.hub().open_room(site.room, "mod-hash")
    assert site.hub(1).lock_state(site.room).password_hash is None
    stored = hash_password("open sesame")
    site.hub(0).set_password(site.room, stored)
    site.hub(0).set_password(site.room, stored)
    lock = site.hub(1).lock_state(site.room)
    assert lock.password_hash == stored and lock.version == 2


def test_many_wrong_passwords_warn_the_counsellor(site):
    (_, mod_box), _ = counsellor_and_client(site)
    for _ in range(ROOM_ATTEMPTS_WARNING):
        site.hub(1).record_failed_attempt(site.room)
    assert mod_box.take("attempts-warning")["count"] == ROOM_ATTEMPTS_WARNING
    site.hub(1).record_failed_attempt("never-opened")  # no room: nothing to count


def test_an_emptied_room_is_forgotten_and_its_terms_count_as_recently_used(site):
    site.hub().open_room(site.room, "mod-hash")
    mod, _ = site.connect(0, moderator=True)
    site.hub(0).disconnect(site.room, mod, "hangup")
    assert site.hub(1).room_is_open(site.room)
    site.let_empty_rooms_expire()
    assert not site.hub(1).room_is_open(site.room)
    assert site.hub(1).recently_used(site.room)
    assert not site.hub(1).recently_used("some-other-room")


def test_a_reload_replaces_the_earlier_socket_of_the_same_browser(site):
    (mod, mod_box), (client, client_box) = counsellor_and_client(site)
    again = Recorder()
    site.hub(0).connect(site.room, "p1-again", "v1", False, again)  # same visitor, other process
    assert again.take("welcome")["peers"] == [mod]
    assert client_box.wait_ended() == "replaced"
    assert mod_box.take("peer-left") == {"type": "peer-left", "peer": client, "reason": "replaced"}


def test_a_group_room_runs_through_a_relay_and_returns_to_p2p(site):
    relay_box = Recorder()
    relay = site.hub(0).connect_relay(5, relay_box)
    (mod, mod_box), (client, client_box) = counsellor_and_client(site)
    third, third_box = site.connect(2)
    assert third_box.take("welcome")["mode"] == "group"
    assert mod_box.take("mode")["mode"] == "group"
    assert client_box.take("mode")["mode"] == "group"
    opened = relay_box.take("room-open")
    assert opened["room"] == site.room and opened["peers"] == [mod, client, third]
    site.hub(1).handle(site.room, client, {"type": "signal", "to": "relay", "data": {"x": 1}})
    assert relay_box.take("signal") == {"type": "signal", "room": site.room, "from": client,
                                        "data": {"x": 1}}
    site.hub(0).relay_signal(relay, site.room, client, {"y": 2})
    assert client_box.take("signal") == {"type": "signal", "from": "relay", "data": {"y": 2}}
    site.hub(2).disconnect(site.room, third, "hangup")
    assert relay_box.take("peer-left")["peer"] == third
    assert relay_box.take("room-close")["room"] == site.room  # after the return delay
    assert mod_box.take("mode")["mode"] == "p2p"
    assert client_box.take("mode")["mode"] == "p2p"


def test_a_relay_that_goes_away_leaves_its_rooms_in_a_mesh(site):
    relay_box = Recorder()
    relay = site.hub(0).connect_relay(5, relay_box)
    (_, mod_box), _ = counsellor_and_client(site)
    site.connect(2)
    assert mod_box.take("mode")["mode"] == "group"
    site.hub(0).disconnect_relay(relay)
    assert mod_box.take("mode")["mode"] == "mesh"
    later_box = Recorder()
    site.hub(1).connect_relay(5, later_box)
    assert later_box.take("room-open")["room"] == site.room
    assert mod_box.take("mode")["mode"] == "group"
