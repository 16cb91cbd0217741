"""``python -m praatbox.turn``: run the TURN server until interrupted."""

import asyncio
import os
import signal

import uvloop

from praatbox.logs import configure_logging
from praatbox.metrics_server import start_metrics_server
from praatbox.turn.config import load_config
from praatbox.turn.metrics import turn_registry
from praatbox.turn.server import TurnServer


async def serve() -> None:
    """Start the server and stop it cleanly on SIGINT or SIGTERM."""
    config = load_config()
    server = TurnServer(config)
    metrics = start_metrics_server(config.metrics_listen, turn_registry(server),
                                   lambda: server.listening)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()
        if metrics is not None:
            metrics.shutdown()


def main() -> None:
    """Log counts at info (never addresses or credentials) and serve on uvloop."""
    configure_logging(os.environ.get("PRAATBOX_TURN_LOG_LEVEL", "INFO"))
    # uvloop, a dependency, wakes up faster than the stock loop on every relayed packet.
    uvloop.run(serve())


if __name__ == "__main__":
    main()
