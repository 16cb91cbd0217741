"""Whether each browser can encrypt, and whether the counsellor requires it, survive the Redis
hub: every web process sees the same answer, so none lets in a browser another one refuses."""

from __future__ import annotations

import json

import pytest

from praatbox.hub.redis_json import dump_room, load_room
from praatbox.hub.redis_store import RedisHub, room_key
from praatbox.rooms.model import E2eeRequired, Participant, Room
from tests.redis.test_hub_contract import Recorder, Site, registry

KEY = {"kind": "wrap", "to": "b", "box": "c2VjcmV0"}


def test_participants_and_the_requirement_round_trip_through_json():
    room = Room("room", opened_at=1.0, e2ee_required=True)
    room.participants["a"] = Participant("a", "va", True, 2.0, e2ee=True)
    room.lobby["k"] = Participant("k", "vk", False, 3.0, e2ee=False)
    loaded = load_room(dump_room(room))
    assert loaded.e2ee_required is True
    assert loaded.participants["a"].e2ee is True and loaded.lobby["k"].e2ee is False


def test_a_room_stored_before_e2ee_existed_claims_no_encryption():
    stored = json.loads(dump_room(Room("room", opened_at=1.0, participants={
        "a": Participant("a", "va", True, 2.0, e2ee=True)})))
    del stored["e2eeRequired"]
    del stored["participants"][0]["e2ee"]
    loaded = load_room(json.dumps(stored))
    assert loaded.e2ee_required is False and loaded.participants["a"].e2ee is False


@pytest.fixture(params=[1, 2], ids=["redis", "redis-two-processes"])
def site(request, redis_client):
    """One Redis hub, or two sharing a Redis like two web processes."""
    hubs = [RedisHub(redis_client, registry()) for _ in range(request.param)]
    yield Site(hubs, None)
    for hub in hubs:
        hub.close()


def enter(site: Site, index: int, e2ee: bool, moderator: bool = False) -> tuple[str, Recorder]:
    outbox = Recorder()
    peer = f"p{index}"
    site.hub(index).connect(site.room, peer, f"v{index}", moderator, outbox, e2ee=e2ee)
    return peer, outbox


def stored_room(site: Site) -> Room:
    return load_room(site.hub().redis.get(room_key(site.room)))


def test_capabilities_and_key_messages_across_processes(site):
    site.hub().open_room(site.room, "mod-hash")
    mod, mod_box = enter(site, 0, True, moderator=True)
    mod_box.take("welcome")
    client, client_box = enter(site, 1, False)
    assert client_box.take("welcome")["withoutE2ee"] == []
    assert mod_box.take("peer-joined") == {"type": "peer-joined", "peer": client, "e2ee": False}
    assert {p.peer_id: p.e2ee for p in stored_room(site).participants.values()} == {
        mod: True, client: False}
    site.hub(1).handle(site.room, client, {"type": "e2ee", "to": mod, "data": KEY})
    assert mod_box.take("e2ee") == {"type": "e2ee", "from": client, "data": KEY}
    third, third_box = enter(site, 2, True)
    assert third_box.take("welcome")["withoutE2ee"] == [client]


def test_the_requirement_is_shared_by_every_process(site):
    site.hub().open_room(site.room, "mod-hash")
    mod, mod_box = enter(site, 0, True, moderator=True)
    mod_box.take("welcome")
    client, client_box = enter(site, 1, False)
    client_box.take("welcome")
    site.hub(0).handle(site.room, mod, {"type": "require-e2ee", "on": True})
    client_box.take("e2ee-required")
    assert client_box.wait_ended() == "e2ee-required"
    assert mod_box.take("peer-left")["reason"] == "e2ee-required"
    assert stored_room(site).e2ee_required is True
    with pytest.raises(E2eeRequired):
        enter(site, 3, False)  # on the other process, when there are two
    late, late_box = enter(site, 5, True)
    assert late_box.take("welcome")["e2eeRequired"] is True
