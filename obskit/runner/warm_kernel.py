"""A notebook kernel started while the analysis runs, handed to papermill when the report
notebook is executed: the kernel's start and the report's imports overlap the analysis
instead of following it.

A fresh kernel costs about a second to start and two more to import pandas, matplotlib and
obskit's renderers; the analysis leaves one of the two cores idle for much of its time.
The warm kernel starts in the system's temporary folder (a folder named ``obskit`` in the
user's working directory cannot shadow the package), imports the report's modules, and is
moved into the run folder when papermill takes it over: the notebook sees the same working
directory, the same modules and the same execution counts as in a kernel of its own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["WARM_IMPORTS", "WarmKernel", "kernel_config", "kernel_manager", "warm_kernel"]

log = logging.getLogger(__name__)

#: what the warm kernel imports while the analysis runs: the report notebook's own imports
WARM_IMPORTS = "import obskit.results, obskit.render"

#: seconds the hand-over waits for the warm kernel to finish its imports
HAND_OVER_TIMEOUT_S = 60.0


@functools.cache
def kernel_manager() -> type:
    """jupyter_client's kernel manager, shutting a kernel down without interrupting it.

    jupyter_client sends SIGINT before every shutdown; a kernel still finishing a message
    (its reply is out, its idle status not yet) then logs ``[IPKernelApp] ERROR |
    KeyboardInterrupt caught in kernel.`` at the end of a good run. The cells are done when
    the kernel is shut down (or it timed out, and is killed): nothing to interrupt.
    A kernel that does not stop is still terminated after ``shutdown_wait_time``. The
    clients it makes are kept (``obskit_clients``) for :meth:`WarmKernel.shutdown` to close.

    Returns
    -------
    type
        A subclass of ``jupyter_client.manager.AsyncKernelManager``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class _Manager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

        def client(self, **kwargs: Any) -> Any:
            # remembered, so that whoever shuts the kernel down closes their channels too:
            # nbclient leaves a client of a kernel it did not start open (its heartbeat
            # thread and sockets would live as long as the process)
            made = super().client(**kwargs)
            self.__dict__.setdefault("obskit_clients", []).append(made)
            return made

    return _Manager


def kernel_config() -> Any:
    """The kernel manager's settings for a notebook run: transport encryption ``auto``.

    jupyter_client then provisions CurveZMQ keys for a kernel whose kernelspec declares
    support (ipykernel's does), so the kernel's sockets are encrypted and ipykernel does
    not warn "Kernel is running over TCP without encryption" on every run. Older
    jupyter_client releases (no ``transport_encryption`` setting) or a pyzmq without
    CurveZMQ keep their defaults.

    Returns
    -------
    traitlets.config.Config
        The settings, for papermill's ``config``.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config as TraitletsConfig

    settings = TraitletsConfig()
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        settings.KernelManager.transport_encryption = "auto"
    return settings


class WarmKernel:
    """One ``python3`` kernel, started early and handed to papermill once.

    Use :func:`warm_kernel` rather than this class: it shuts the kernel down on every
    path. The kernel is started as nbclient starts one (the same kernel manager, settings
    and in-memory IPython history), so a notebook run in it gives what a fresh kernel
    gives.
    """

    def __init__(self) -> None:
        self._manager: Any = None
        self._client: Any = None  # open from the start to the hand-over: the imports'
        # request waits in its queue until the kernel is up
        self._handed_over = False

    def start(self) -> None:
        """Start the kernel and queue :data:`WARM_IMPORTS` (does not wait for them).

        A kernel that fails to start is logged and left out: papermill then starts its own.
        """
        from jupyter_core.utils import run_sync

        try:
            manager = kernel_manager()(kernel_name="python3", config=kernel_config())
            run_sync(manager.start_kernel)(
                cwd=tempfile.gettempdir(),
                extra_arguments=["--HistoryManager.hist_file=:memory:"])
            self._manager = manager
            self._client = manager.blocking_client()
            # shell and iopub only: the heartbeat channel is a thread of its own, which
            # died with a traceback ("Too many open files") when a run stopped at once
            # (a config error) and closed the client while it was creating its socket
            self._client.start_channels(shell=True, iopub=True, stdin=False, hb=False,
                                        control=False)
            self._client.execute(WARM_IMPORTS, silent=True, store_history=False)
        except Exception as exc:  # noqa: BLE001 - a kernel of papermill's own still runs
            log.info("warm kernel not started (%s); the notebook starts its own", exc)
            self.shutdown()

    def hand_over(self, folder: Path) -> Any:
        """The kernel's manager, for papermill's ``km``, with the kernel in ``folder``.

        Waits (at most :data:`HAND_OVER_TIMEOUT_S`) for the imports, then changes the
        kernel's working directory. A kernel that died or did not answer is shut down.

        Parameters
        ----------
        folder : Path
            The run folder (the notebook's working directory).

        Returns
        -------
        jupyter_client.manager.AsyncKernelManager or None
            The manager, or None when there is no usable kernel (papermill then starts
            its own).
        """
        if self._manager is None or self._handed_over:
            return None
        from jupyter_core.utils import run_sync

        manager, client = self._manager, self._client
        try:
            if not run_sync(manager.is_alive)():
                raise RuntimeError("the kernel died")
            started = time.monotonic()
            reply = client.execute_interactive(
                f"import os as _os; _os.chdir({str(folder.resolve())!r}); del _os",
                silent=True, store_history=False, timeout=HAND_OVER_TIMEOUT_S)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel's set-up failed: {reply['content']}")
            log.debug("warm kernel handed over after %.2f s", time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - papermill starts a kernel of its own
            log.info("warm kernel not used (%s); the notebook starts its own", exc)
            self.shutdown()
            return None
        self._close_client()
        self._handed_over = True
        return manager

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.stop_channels()

    def shutdown(self) -> None:
        """Stop the kernel, at once (idempotent). Once the notebook is written nothing
        in the kernel needs keeping (its history is in memory); a graceful shutdown
        would wait about 0.7 s for it to exit."""
        self._close_client()
        manager, self._manager = self._manager, None
        if manager is None:
            return
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            run_sync(manager.shutdown_kernel)(now=True)
        for client in manager.__dict__.pop("obskit_clients", []):  # papermill's
            with contextlib.suppress(Exception):
                client.stop_channels()


@contextlib.contextmanager
def warm_kernel(enabled: bool = True) -> Iterator[WarmKernel | None]:
    """A :class:`WarmKernel` started now and shut down when the block ends.

    Parameters
    ----------
    enabled : bool, default True
        False yields None (nothing started).

    Yields
    ------
    WarmKernel or None
    """
    if not enabled:
        yield None
        return
    kernel = WarmKernel()
    kernel.start()
    try:
        yield kernel
    finally:
        kernel.shutdown()
