"""Reaching a Dask scheduler: connect, say what is there, refuse what cannot take a run.

Used before a run (the dashboard's and the CLI's check) and as a run starts
(`lstm_core.execution.dask_executor`). Dask itself is an extra (`.[cluster]`): it is
imported only when a scheduler is reached, so naming one costs nothing until then.
"""

from __future__ import annotations

from lstm_core.domain import env_settings
from lstm_core.domain.cluster_view import ClusterInfo
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import scheduler_address

SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # Dask's; a bare HOST:PORT is tcp
CONNECT_S = 10.0
WORKERS_WAIT_VARIABLE = "LSTM_CORE_DASK_WORKERS_WAIT_S"
WORKERS_WAIT_S = 30.0  # a cluster without workers: how long a run waits for one
INSTALL_HINT = "pip install -e '.[cluster]'"


def workers_wait_s() -> float:
    """How long a run waits for a worker, at its start or once none is left
    (`$LSTM_CORE_DASK_WORKERS_WAIT_S`)."""
    return env_settings.seconds(WORKERS_WAIT_VARIABLE, WORKERS_WAIT_S)


def connect(address: str):
    """A client of the scheduler at `address`; a sentence if it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise UserError(f"Fits on a Dask cluster need Dask distributed: {INSTALL_HINT}.") from None
    try:
        return Client(address, timeout=CONNECT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UserError(
            f"Could not reach the Dask scheduler at {address} ({exc}); start it with "
            "`dask scheduler`, or clear the cluster setting to train on this machine."
        ) from None


def describe(client, address: str, workers: dict) -> ClusterInfo:
    """The scheduler and `workers` (its `scheduler_info`) as the dashboard shows them."""
    try:
        dashboard = client.dashboard_link
    except (KeyError, TypeError):  # a scheduler without its dashboard (no bokeh there)
        dashboard = None
    return ClusterInfo(
        scheduler=address,
        dashboard=dashboard,
        workers=len(workers),
        threads=sum(int(w.get("nthreads", 1)) for w in workers.values()),
    )


def refuse_unusable(address: str, workers: dict) -> None:
    """A sentence if these workers cannot take a run's fits: none, or several threads each
    (a worker fits one model at a time, see `lstm_core.execution.cluster_worker`)."""
    if not workers:
        raise UserError(
            f"The Dask scheduler at {address} has no workers; start "
            f"`dask worker {address} --nthreads 1` on each machine (with this package "
            "installed)."
        )
    threaded = sorted(a for a, w in workers.items() if int(w.get("nthreads", 1)) > 1)
    if threaded:
        raise UserError(
            f"The Dask worker {threaded[0]} runs {workers[threaded[0]]['nthreads']} threads, "
            "and a worker fits one model at a time; start the workers with "
            f"`dask worker {address} --nthreads 1 --nworkers N` (N: the machine's cores)."
        )


def check_scheduler(address: str) -> ClusterInfo:
    """Connect, say what is there, disconnect (the dashboard's and the CLI's check); a
    sentence if it cannot take a run's fits."""
    address = scheduler_address(address)
    client = connect(address)
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        refuse_unusable(address, workers)
        return describe(client, address, workers)
    finally:
        client.close()
