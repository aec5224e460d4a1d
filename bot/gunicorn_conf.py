"""gunicorn settings for the web process: `gunicorn -c python:bot.gunicorn_conf` (the Procfile's web line).

Prometheus multiprocess mode: each worker writes its counters into files under
PROMETHEUS_MULTIPROC_DIR and /metrics adds every worker's up (prometheus_client's
MultiProcessCollector). Without it, /metrics would show whichever worker answered.
The folder is set here (before the workers fork) when the environment does not,
emptied when gunicorn starts, and a dead worker's live gauges are dropped.
"""
import glob
import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(tempfile.gettempdir(), f"bot-prometheus-{os.getpid()}")


def on_starting(server):
    """Start from zero: files left by an earlier run would add old counts to the new ones."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """A worker ended (restart, crash, max-requests): its counters stay counted, its live gauges go."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
