"""``python -m praatbox.turn``: run the TURN server (one process, or workers) until stopped."""

import asyncio
import os
import signal
import sys
from dataclasses import replace

import uvloop

from praatbox.logs import configure_logging
from praatbox.metrics_server import start_metrics_server
from praatbox.turn.config import TurnConfig, load_config
from praatbox.turn.metrics import turn_registry
from praatbox.turn.server import TurnServer
from praatbox.turn.workers import WorkerShare, run_workers


async def serve(config: TurnConfig, share: WorkerShare | None = None) -> None:
    """Start the server and stop it cleanly on SIGINT or SIGTERM."""
    if share is not None and share.index and config.metrics_listen is not None:
        # Each worker serves its own counts: worker i on the metrics port + i.
        host, port = config.metrics_listen
        config = replace(config, metrics_listen=(host, port + share.index))
    server = TurnServer(config, share)
    metrics = start_metrics_server(config.metrics_listen, turn_registry(server),
                                   lambda: server.listening)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A worker stops when the parent says so (Ctrl-C reaches the whole process group).
    signals = (signal.SIGINT, signal.SIGTERM) if share is None else (signal.SIGTERM,)
    for signum in signals:
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
    config = load_config()
    # uvloop, a dependency, wakes up faster than the stock loop on every relayed packet.
    if config.workers == 1:
        uvloop.run(serve(config))
        return
    sys.exit(run_workers(config.workers, lambda share: uvloop.run(serve(config, share))))


if __name__ == "__main__":
    main()
