"""``imabot sim``: run the IMA simulator standalone on loopback."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from adapters.embedded_http import url_of, wait_started
from sim.config import SimConfig
from sim.faults import FaultSpec, FaultSpecError
from sim.server import RemoteHostRefusedError, bind, make_server


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--speed", type=float, default=1.0, help="time scale (10 = ten times faster)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="fault spec, repeatable (grammar in sim/README.md)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spread", type=float, default=0.0,
                        help="vary each task's time lognormally with this sigma (0 = exact, e.g. 0.2)")
    parser.add_argument("--success-code", type=int, choices=(0, 200), default=0)
    parser.add_argument("--balance", type=int, default=100_000, help="starting points of every key")
    parser.add_argument("--no-subscription", action="store_true", help="keys start without a subscription")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.set_defaults(handler=run)


async def _serve(config: SimConfig, args: argparse.Namespace) -> None:
    sock = bind(args.host, args.port, allow_remote=args.allow_remote)
    base_url = url_of(sock)
    # Our own signal handlers: uvicorn's re-raise the signal after shutdown, so SIGTERM would end the
    # process with -15 instead of a clean exit 0.
    server = make_server(config, base_url, embedded=True)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, setattr, server, "should_exit", True)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_started(server, serving)
    print(f"IMA simulator listening on {base_url}", flush=True)
    print(f"Point imabot at it: IMA_API_KEY=ima_demo IMABOT_IMA__BASE_URL={base_url} "
          f"IMABOT_IMA__UPLOAD_BASE_URL={base_url} imabot generate \"a red fox in the snow\"", flush=True)
    await serving


def run(args: argparse.Namespace) -> int:
    try:
        faults = tuple(FaultSpec.parse(text) for text in args.fault)
        config = SimConfig(speed=args.speed, seed=args.seed, spread=args.spread, faults=faults,
                           success_code=args.success_code, default_balance=args.balance,
                           default_subscription=not args.no_subscription)
        asyncio.run(_serve(config, args))
    except (FaultSpecError, RemoteHostRefusedError, ValueError, OSError, RuntimeError) as exc:
        print(f"imabot sim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
