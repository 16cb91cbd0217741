"""Password guesses must not stall the other rooms: each one costs a slow scrypt, and the web
process serves every room from one gevent event loop."""

from __future__ import annotations

import subprocess
import sys
import threading

from tests.live import ROOT, HttpUser, start_web
from tests.signaling.client import connect, pair, receive, run, set_password, terms

GUESSES = 12
PASSWORD = "Groene-Fiets-73"

# Run as gunicorn's gevent worker runs the app: monkey-patched, one hub. A second greenlet counts
# how often it got to run while the first checked a password.
GREENLET_PROBE = """
from gevent import monkey
monkey.patch_all()
import gevent
from praatbox.rooms.passwords import hash_password, password_matches
from praatbox.views.threadpool import run_in_threadpool

stored = hash_password("Groene-Fiets-73")
turns = 0

def other_room():
    global turns
    while True:
        turns += 1
        gevent.sleep(0)

spinner = gevent.spawn(other_room)
gevent.sleep(0)
before = turns
assert not run_in_threadpool(password_matches, "wrong guess", stored)
print(turns - before, flush=True)
# Stop the spinning greenlet: left running, the interpreter's exit (which waits for threads
# through the hub) could run it forever.
spinner.kill()
"""


def test_checking_a_password_lets_other_greenlets_run():
    probe = subprocess.run([sys.executable, "-c", GREENLET_PROBE], cwd=ROOT, check=True,
                           capture_output=True, text=True, timeout=60)
    assert int(probe.stdout.strip()) > 0


def test_pings_of_another_room_are_answered_while_guesses_are_checked(tmp_path):
    # Behind a trusted proxy, every guess claims its own address and reaches scrypt.
    web = start_web(tmp_path, {"PRAATBOX_PROXY_HOPS": "1",
                               "PRAATBOX_PASSWORD_LOCKOUT_FAILURES": "1000"})
    try:
        counsellor, _, room = pair(web)
        owner = HttpUser(web.url)
        locked = owner.enter("start", terms())
        set_password(owner, locked, PASSWORD)
        statuses: list[int] = []

        def guess(number: int) -> None:
            status, _, _ = HttpUser(web.url).submit(
                locked + "/password", {"password": f"wrong-{number}"}, "/",
                {"X-Forwarded-For": f"203.0.113.{number + 1}"})
            statuses.append(status)

        async def scenario():
            ws = await connect(web, counsellor, room)
            await receive(ws, "welcome")
            guessers = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
            for thread in guessers:
                thread.start()
            pongs = 0
            while any(thread.is_alive() for thread in guessers):
                await ws.send('{"type": "ping"}')
                await receive(ws, "pong")
                pongs += 1
            for thread in guessers:
                thread.join()
            await ws.close()
            return pongs

        assert run(scenario()) > 0
        assert statuses == [422] * GUESSES  # every guess was checked, and wrong
    finally:
        web.stop()
