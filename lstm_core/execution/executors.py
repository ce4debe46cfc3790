"""Where a run's fits go, chosen by the scheme of the run's cluster setting.

No setting, or `local`: this machine's processes (`lstm_core.execution.local_executors`).
`tcp://HOST:PORT` (Dask's other schemes too, and a bare HOST:PORT as `dask scheduler`
prints it): a Dask cluster (`lstm_core.execution.dask_executor`). Each kind of cluster is
one module that declares its `ExecutorKind` (its schemes, how it starts an executor, how
it checks an address); listing that record in `KINDS` is all it takes to add one.
"""

from __future__ import annotations

from lstm_core.domain.cluster_view import ClusterInfo
from lstm_core.domain.errors import UserError
from lstm_core.execution.dask_executor import DASK
from lstm_core.execution.executor import Executor, ExecutorKind, ExecutorRequest
from lstm_core.execution.local_executors import local_executor

LOCAL = ExecutorKind("this machine", ("local",), local_executor)
KINDS = (LOCAL, DASK)
BARE_ADDRESS_SCHEME = "tcp"  # HOST:PORT, as `dask scheduler` prints its address


def scheme(address: str) -> str:
    """The scheme that picks the executor for `address` ('' and `local`: this machine)."""
    address = address.strip()
    if address in ("", LOCAL.schemes[0]):
        return LOCAL.schemes[0]
    if "://" not in address:
        return BARE_ADDRESS_SCHEME
    return address.split("://", 1)[0].lower()


def kind_of(address: str) -> ExecutorKind:
    """The kind of executor the address names; a sentence if no kind answers its scheme."""
    wanted = scheme(address)
    for kind in KINDS:
        if wanted in kind.schemes:
            return kind
    known = ", ".join(f"{s}://" for kind in KINDS if kind.check for s in kind.schemes)
    raise UserError(
        f"No executor answers '{wanted}://' in '{address}'; give one of {known}, or leave the "
        "cluster empty to train on this machine."
    )


def make_executor(request: ExecutorRequest) -> Executor:
    """The executor for the request's address, started."""
    return kind_of(request.address).start(request)


def check_cluster(address: str) -> ClusterInfo:
    """Reach the cluster at `address` and say what is there (the dashboard's and the CLI's
    check); a sentence if it cannot take a run's fits."""
    kind = kind_of(address)
    if kind.check is None:
        raise UserError(
            f"'{address or LOCAL.schemes[0]}' is {kind.name}: there is nothing to reach."
        )
    return kind.check(address)
