"""``hazmon rules worker``: run a stream-rules Faust worker (several may run; they split partitions).

The command keeps its Faust worker running: the worker runs as a child process and is restarted
when it crashes (faust-streaming 0.15 can stop with a ConsistencyError when a rebalance meets an
open transaction; a fresh process recovers the committed state). ``--no-restart`` runs it in place.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time

log = logging.getLogger("stream_rules.cli")
RESTART_PAUSE_S = 2.0
FAUST_LEVELS = {"crit": "CRITICAL", "error": "ERROR", "warn": "WARNING", "info": "INFO", "debug": "DEBUG"}


def _run_faust(faust_log_level: str) -> int:
    from hazmon.kafka_topics import ensure_topics_blocking
    from hazmon.logs import dict_config
    from hazmon.settings import get_settings
    from stream_rules.worker import build_app, topic_names

    settings = get_settings()
    # §8: an input that does not exist yet when Faust subscribes is never read (a fresh install's first fire
    # event raised nothing): the worker creates its topics before it subscribes
    ensure_topics_blocking(settings, topic_names(settings))
    # the worker's own lines structured at INFO (alarms, reloads, recovery); Faust's at the level asked
    app = build_app(settings, dict_config(libraries_level=FAUST_LEVELS[faust_log_level]))
    # Faust's own level is set in that config; "info" here only keeps Faust's spinner from raising our handler to WARN
    sys.argv = ["hazmon-rules", "worker", "--loglevel", "info", "--without-web"]
    app.main()  # Faust's own command line: it runs the worker until a signal stops it
    return 0


def _keep_running(faust_log_level: str) -> int:
    argv = [sys.executable, "-m", "hzctl.cli", "rules", "worker", "--no-restart", "--faust-log-level", faust_log_level]
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping or code == 0:
            return 0 if stopping else code
        log.warning("rules worker exited, restarting", extra={"exit_code": code, "pause_s": RESTART_PAUSE_S})
        time.sleep(RESTART_PAUSE_S)


def _worker(args: argparse.Namespace) -> int:
    return _run_faust(args.faust_log_level) if args.no_restart else _keep_running(args.faust_log_level)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="stream rules: readings → alarm transitions")
    sub = parser.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    worker = sub.add_parser("worker", help="run a faust-streaming rules worker (restarted if it crashes)")
    worker.add_argument("--faust-log-level", default="warn", choices=tuple(FAUST_LEVELS),
                        help="log level of Faust itself")
    worker.add_argument("--no-restart", action="store_true", help="run the Faust worker in this process, once")
    worker.set_defaults(handler=_worker)
