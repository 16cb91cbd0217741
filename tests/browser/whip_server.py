"""A WHIP endpoint (RFC 9725) for the LIVE tests: aiortc answers each POSTed offer on loopback,
decodes what arrives, and reports counts at `GET /stats`.

    python -m tests.browser.whip_server --port 8089

It answers CORS like a streaming service's ingest must for a browser on another origin, and
`DELETE` on the session resource ends the session (counted as `deleted`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets

from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from praatbox.relay.aiortc_hooks import use_host_addresses

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Expose-Headers": "Location",
}


class Ingest:
    """Every session's connection and what it decoded."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.sessions: dict[str, RTCPeerConnection] = {}
        self.counts = {"sessions": 0, "deleted": 0, "video_frames": 0, "audio_frames": 0,
                       "refused": 0, "width": 0, "height": 0}

    async def consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.counts["video_frames"] += 1
                    self.counts["width"], self.counts["height"] = frame.width, frame.height
                else:
                    self.counts["audio_frames"] += 1

    async def publish(self, request: web.Request) -> web.Response:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            self.counts["refused"] += 1
            return web.Response(status=401, headers=CORS)
        if request.content_type != "application/sdp":
            return web.Response(status=415, headers=CORS)
        pc = RTCPeerConnection()
        pc.on("track", lambda track: asyncio.ensure_future(self.consume(track)))
        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        session = secrets.token_urlsafe(8)
        self.sessions[session] = pc
        self.counts["sessions"] += 1
        return web.Response(status=201, text=pc.localDescription.sdp,
                            content_type="application/sdp",
                            headers={**CORS, "Location": f"/whip/{session}"})

    async def delete(self, request: web.Request) -> web.Response:
        pc = self.sessions.pop(request.match_info["session"], None)
        if pc is None:
            return web.Response(status=404, headers=CORS)
        self.counts["deleted"] += 1
        await pc.close()
        return web.Response(status=200, headers=CORS)

    async def preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS)

    async def stats(self, request: web.Request) -> web.Response:
        connected = sum(pc.connectionState == "connected" for pc in self.sessions.values())
        return web.json_response({**self.counts, "connected": connected})


def application(token: str = "") -> web.Application:
    ingest = Ingest(token)
    app = web.Application()
    app.router.add_post("/whip", ingest.publish)
    app.router.add_route("OPTIONS", "/whip", ingest.preflight)
    app.router.add_delete("/whip/{session}", ingest.delete)
    app.router.add_route("OPTIONS", "/whip/{session}", ingest.preflight)
    app.router.add_get("/stats", ingest.stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    # aioice leaves 127.0.0.1 out of its host candidates: in a loopback-only namespace there
    # would be none at all.
    use_host_addresses(("127.0.0.1",))
    web.run_app(application(args.token), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
