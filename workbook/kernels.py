"""Fresh kernels for the export, started cheaply by forking a preloaded "zygote" process.

Most of the time it takes to start an IPython kernel goes on imports: ipykernel, IPython,
ZeroMQ, tornado and debugpy, and then, for the report notebook, pydantic and the
workbook's own model. Every project's report must still run in a brand-new process, so that
nothing one project's run leaves behind (a global, a changed module, an environment
variable) can reach the next.

This module does both. The *zygote* is a helper process that imports all of that once and
then waits. It never runs notebook code, and never creates a ZeroMQ context, an event loop
or a thread. :class:`ForkingKernelManager` (a jupyter_client ``AsyncKernelManager``) asks
it, over a Unix socket in a private folder, to fork once for each kernel. The child becomes
a new session leader and starts a new ``IPKernelApp`` from the connection file that
jupyter_client wrote for it, exactly as ``python -m ipykernel_launcher -f <file>`` would.
So each kernel is a new process. Its memory starts as a copy of the zygote's untouched
state, and whatever the kernel changes stays in its own copy and dies with it.

The kernel is launched the usual way, as a new ``python -m ipykernel_launcher`` process, if
the zygote cannot be used:

- the platform is not Linux, or ``WORKBOOK_KERNEL_ZYGOTE=0`` is set;
- the kernel command is not that standard one, for this Python;
- the zygote fails to start, stops answering, or refuses to fork.

Once the zygote has failed, this process stops using it. A zygote lives as long as the
process that started it (one per export worker), and exits when that process does, killing
any kernel of its own still running.

The manager also trims the waiting around each kernel, forked or not: see
:class:`PromptKernelClient` and :class:`ForkingKernelManager`.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import pathlib
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type, default

log = logging.getLogger(__name__)

ENV_SWITCH = "WORKBOOK_KERNEL_ZYGOTE"
"""Set to ``0`` to start every kernel as a new ``python -m ipykernel_launcher`` process."""

PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # imports debugpy: the kernelspec enables the debugger
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "IPython.display",
    "IPython.extensions.storemagic",
    "faulthandler",
    "psutil",  # ipykernel looks for child processes when it shuts down
    "sqlite3",  # IPython's history, even when it is kept in memory
    "tornado.gen",
    "tornado.locks",
    "tornado.platform.asyncio",
    "tornado.queues",
    "workbook.export.report",
    "workbook.store",
    # the app's pages (Voilà's kernels are forked too: workbook/voila_kernels.py)
    "ipywidgets",
    "anywidget",
    "widgets",
)
"""What the zygote imports before it forks: what every kernel, and the report, would import."""

_REQUIRED = frozenset({"ipykernel.kernelapp", "workbook.export.report", "workbook.store"})

EVIDENCE_PRELOAD = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "PIL.PngImagePlugin",
    "sklearn.metrics",
    "fairlearn.metrics",
)
"""What an evidence notebook's zygote imports besides :data:`PRELOAD`: the analysis
libraries the starter notebooks use (any that is not installed is skipped). Not the
inline backend (``matplotlib_inline.backend_inline``): importing it is what connects
figures to the kernel's display, so it must happen in the kernel (pyplot imports its
backend only when the first figure is made)."""

APP_PRELOAD = ("presidio_analyzer", "phonenumbers", "tldextract", "widgets.personal_data")
"""What the zygote of the app's (Voilà's) kernels imports besides :data:`PRELOAD`: the
personal-data detector, which it also builds (``widgets.personal_data.warm_up_now``), so
that a page's kernel does not spend a second and a half of CPU on it."""

KINDS = {
    "default": PRELOAD,
    "evidence": PRELOAD + EVIDENCE_PRELOAD,
    "app": PRELOAD + APP_PRELOAD,
}
"""The zygotes a process may keep, one of each kind, by what they import."""

_KIND_ENV = "WORKBOOK_ZYGOTE_KIND"
_SINGLE_THREADED = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

START_TIMEOUT_S = 120.0
"""How long the first fork may take: it waits for the zygote to finish importing."""

REQUEST_TIMEOUT_S = 30.0
"""How long any later fork may take."""

RECONNECT_IVL_MS = 10
"""How soon a kernel client tries again to connect to a kernel that is still starting."""

SHUTDOWN_POLL_S = 0.02
"""How often to check whether a kernel asked to shut down has exited."""

ZYGOTE_COMMAND = (sys.executable, "-c", "from workbook.kernels import zygote_main; zygote_main()")
"""How the zygote is started; the listening socket's file descriptor is appended."""


class ZygoteError(RuntimeError):
    """The zygote could not fork a kernel."""


# --------------------------------------------------------------------------- client side


class ForkedKernel:
    """A kernel forked by the zygote, with the parts of ``Popen`` that jupyter_client uses.

    The kernel is the zygote's child, not ours, so the zygote reports its exit: one line,
    ``{"returncode": n}``, on the connection that asked for the fork. Until that connection
    is closed, the zygote leaves the exited kernel unreaped, so its process id cannot be
    reused while we might still signal it.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, connection: socket.socket) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._connection: socket.socket | None = connection
        self._buffer = b""

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Let the zygote reap the kernel (and kill it, if it is still running)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _read(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None and self._connection is not None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._connection], [], [], remaining)
            if not ready:
                return
            try:
                chunk = self._connection.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                # The zygote is gone. The kernel notices that its parent has changed and
                # exits within a second; it cannot be waited for from here.
                log.info("kernel zygote gone; kernel %s counted as ended", self.pid)
                self.returncode = -signal.SIGKILL
                self.close()
                return
            self._buffer += chunk
            if b"\n" in self._buffer:
                line = self._buffer.split(b"\n", 1)[0]
                try:
                    self.returncode = int(json.loads(line)["returncode"])
                except (ValueError, TypeError, KeyError):
                    self.returncode = -signal.SIGKILL
                self.close()


class Zygote:
    """A running zygote process, and how to ask it for a kernel."""

    def __init__(self, process: subprocess.Popen[bytes], folder: str, address: str) -> None:
        self._process = process
        self._folder = folder
        self._address = address
        self._owner = os.getpid()
        self._answered = False

    @classmethod
    def start(cls, command: Sequence[str] | None = None, kind: str = "default") -> Zygote:
        """Start a zygote (``ZYGOTE_COMMAND`` unless given) importing what ``kind`` names
        (:data:`KINDS`). It imports in the background; the first fork waits for it."""
        folder = tempfile.mkdtemp(prefix="workbook-zygote-")  # mode 0700: ours alone
        address = os.path.join(folder, "zygote.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, _KIND_ENV: kind}
        if kind in ("evidence", "app"):
            # Numerical libraries start thread pools when imported (numpy's OpenBLAS, which
            # the app's Presidio imports through spaCy); a fork keeps only the thread that
            # forked. One thread each, set before they are imported.
            env.update({name: "1" for name in _SINGLE_THREADED})
        if kind == "evidence":
            # matplotlib reads its backend when imported: the one a kernel would choose.
            env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        try:
            listener.bind(address)
            listener.listen(64)
            process = subprocess.Popen(
                [*(command or ZYGOTE_COMMAND), str(listener.fileno())],
                stdin=subprocess.PIPE,  # closed when we exit: the zygote then exits too
                pass_fds=(listener.fileno(),),
                cwd=folder,
                env=env,
                start_new_session=True,  # a Ctrl-C meant for us is not sent to it
            )
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            listener.close()  # only the zygote holds it now: if it dies, connecting fails
        return cls(process, folder, address)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return os.getpid() == self._owner and self._process.poll() is None

    def fork(self, args: Sequence[str], *, cwd: str, env: dict[str, str]) -> ForkedKernel:
        """A new kernel process running ``ipykernel_launcher`` with ``args``."""
        request = json.dumps({"args": list(args), "cwd": cwd, "env": env}).encode() + b"\n"
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(REQUEST_TIMEOUT_S if self._answered else START_TIMEOUT_S)
            connection.connect(self._address)
            connection.sendall(request)
            reply = _read_line(connection)
            connection.settimeout(None)
        except (OSError, ValueError) as exc:
            connection.close()
            raise ZygoteError(f"the kernel zygote did not answer: {exc}") from exc
        if not isinstance(reply, dict) or "pid" not in reply:
            connection.close()
            reason = reply.get("error") if isinstance(reply, dict) else "no answer"
            raise ZygoteError(f"the kernel zygote could not fork: {reason}")
        self._answered = True
        return ForkedKernel(int(reply["pid"]), connection)

    def close(self) -> None:
        """Stop the zygote. It kills any kernel it forked that is still running."""
        if os.getpid() != self._owner:
            return
        if not self._answered:  # still importing, and so with no kernels: no need to wait
            self._process.kill()
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def _read_line(connection: socket.socket) -> Any:
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return None
        data += chunk
    return json.loads(data.split(b"\n", 1)[0])


def forking_available() -> bool:
    """Whether kernels may be forked from a zygote here."""
    return sys.platform.startswith("linux") and os.environ.get(ENV_SWITCH, "1") != "0"


_shared: dict[str, Zygote] = {}
_shared_failed: set[str] = set()
_shared_lock = threading.Lock()


def shared_zygote(kind: str = "default") -> Zygote | None:
    """This process's zygote of ``kind``, started on first use; None if forking is not to
    be used."""
    if not forking_available():
        return None
    with _shared_lock:
        zygote = _shared.get(kind)
        if zygote is not None and not zygote.alive:
            _discard_locked("it has exited", kind)
        if kind not in _shared and kind not in _shared_failed:
            try:
                _shared[kind] = Zygote.start(kind=kind)
            except OSError as exc:
                _shared_failed.add(kind)
                log.info("kernel zygote not started (%s); starting kernels normally", exc)
        return _shared.get(kind)


def discard_shared_zygote(reason: str, kind: str = "default") -> None:
    """Stop using this process's zygote of ``kind``: later kernels start the usual way."""
    with _shared_lock:
        _discard_locked(reason, kind)


def _discard_locked(reason: str, kind: str = "default") -> None:
    log.info("kernel zygote not used any more (%s); starting kernels normally", reason)
    _shared_failed.add(kind)
    zygote = _shared.pop(kind, None)
    if zygote is not None:
        zygote.close()


def shutdown_shared_zygote() -> None:
    """Stop this process's zygotes, if any; the next kernel starts a new one."""
    with _shared_lock:
        for zygote in _shared.values():
            zygote.close()
        _shared.clear()
        _shared_failed.clear()


atexit.register(shutdown_shared_zygote)


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """The local provisioner, launching the kernel by a fork of the zygote when it can."""

    _forked: ForkedKernel | None = None
    zygote_kind = "default"

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        args = _ipykernel_args(cmd)
        plain = args is not None and _plain_launch(kwargs)
        zygote = shared_zygote(self.zygote_kind) if plain else None
        if zygote is not None and args is not None:
            try:
                process = zygote.fork(
                    args,
                    cwd=os.fspath(kwargs.get("cwd") or os.getcwd()),
                    env=dict(kwargs.get("env") or os.environ),
                )
            except ZygoteError as exc:
                discard_shared_zygote(str(exc), self.zygote_kind)
            else:
                self._forked = process
                self.process = process
                self.pid = process.pid
                self.pgid = process.pid  # the child called setsid() before we got its pid
                self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)

    async def cleanup(self, restart: bool = False) -> None:
        if self._forked is not None:
            self._forked.close()
            self._forked = None
        await super().cleanup(restart=restart)


class PromptKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """An ``AsyncKernelClient`` that knows a kernel is ready as soon as it is.

    jupyter_client's ``wait_for_ready`` sends ``kernel_info_request`` and, once the reply and
    one IOPub message have arrived, reads IOPub until it has been quiet for 0.2 s: a fixed
    0.2 s on every kernel start. This client is ready at the IOPub ``idle`` status of its own
    request instead: the kernel publishes it after the reply, so once it has arrived, IOPub
    is connected and nothing from the request is left to read.

    That status is lost if it was published before IOPub had connected. A kernel that
    announces the connection (``iopub_welcome``) gets a new request at once, whose status
    is then sure to arrive. Without either within 0.2 s, the request is sent again, as
    upstream does.
    """

    @default("context")
    def _context_with_quick_reconnects(self) -> zmq.asyncio.Context:
        # The client connects as soon as the kernel is launched, usually before the kernel
        # has bound its sockets; ZeroMQ then tries again after RECONNECT_IVL (100 ms).
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._reply(msg_id, within=1.0)
            if reply is not None and await self._iopub_idle(msg_id, within=0.2):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _reply(self, msg_id: str, *, within: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.shell_channel.get_msg(timeout=left)
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    async def _iopub_idle(self, msg_id: str, *, within: float) -> bool:
        """True at the idle status of ``msg_id``; False when it is time to ask again."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if msg["msg_type"] == "iopub_welcome":
                return False  # connected now; this request's status may have been missed
            if (
                msg["msg_type"] == "status"
                and msg["parent_header"].get("msg_id") == msg_id
                and msg["content"].get("execution_state") == "idle"
            ):
                return True
        return False


class ForkingLaunch:
    """Mixin for a jupyter_client kernel manager: launch through :class:`ZygoteProvisioner`
    when the kernel spec asks for the ordinary local launch."""

    provisioner_class: type[ZygoteProvisioner] = ZygoteProvisioner

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None and _local_provisioner(self.kernel_spec):  # type: ignore[attr-defined]
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))  # type: ignore[attr-defined]
            self.provisioner = self.provisioner_class(
                kernel_id=self.kernel_id,
                kernel_spec=self.kernel_spec,
                parent=self,  # type: ignore[attr-defined]
            )
        return await super()._async_pre_start_kernel(**kw)  # type: ignore[misc]


class ForkingKernelManager(ForkingLaunch, AsyncKernelManager):  # type: ignore[misc]
    """An ``AsyncKernelManager`` for batch runs: kernels forked from the zygote if possible.

    Use it as nbclient's (and so papermill's) ``kernel_manager_class``. Besides forking:

    - its client (:class:`PromptKernelClient`) does not wait a fixed 0.2 s for a kernel to
      be ready;
    - a kernel's exit is noticed within 20 ms rather than 100 ms;
    - a kernel is not sent SIGINT just before it is asked to shut down. jupyter_client does
      that to stop code that is still running, but a batch only shuts a kernel down once
      its notebook has finished; the signal then only races the kernel's own handling
      (``KeyboardInterrupt caught in kernel`` in the log). A kernel that is still busy
      (a cell that timed out) is terminated 2.5 s later, and killed if it must be.
    """

    client_class = DottedObjectName("workbook.kernels.PromptKernelClient")
    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient)

    async def _async_interrupt_kernel(self) -> None:
        if getattr(self, "shutting_down", False):
            return  # see the class's docstring
        await super()._async_interrupt_kernel()

    async def _async_finish_shutdown(
        self, waittime: float | None = None, pollinterval: float = 0.1, restart: bool = False
    ) -> None:
        await super()._async_finish_shutdown(
            waittime=waittime, pollinterval=min(pollinterval, SHUTDOWN_POLL_S), restart=restart
        )


class EvidenceProvisioner(ZygoteProvisioner):  # type: ignore[misc]
    """Kernels forked from the zygote that has the analysis libraries imported."""

    zygote_kind = "evidence"


class EvidenceKernelManager(ForkingKernelManager):  # type: ignore[misc]
    """:class:`ForkingKernelManager` for evidence notebooks: each kernel is a new process
    forked from a zygote that has also imported :data:`EVIDENCE_PRELOAD`."""

    provisioner_class = EvidenceProvisioner


def _local_provisioner(spec: Any) -> bool:
    stanza = (getattr(spec, "metadata", None) or {}).get("kernel_provisioner") or {}
    return stanza.get("provisioner_name", "local-provisioner") == "local-provisioner"


def _ipykernel_args(cmd: Sequence[str]) -> list[str] | None:
    """The arguments after ``python -m ipykernel_launcher``, if ``cmd`` is that, for us."""
    if len(cmd) < 3 or list(cmd[1:3]) != ["-m", "ipykernel_launcher"]:
        return None
    if os.path.abspath(cmd[0]) != os.path.abspath(sys.executable):
        return None
    return list(cmd[3:])


def _plain_launch(kwargs: dict[str, Any]) -> bool:
    """Nothing asked of the launch that a fork would not do (redirections, independence)."""
    return all(v in (None, False) for k, v in kwargs.items() if k not in {"cwd", "env"})


# --------------------------------------------------------------------------- zygote side


def zygote_main() -> None:
    """The zygote process: import, then fork a kernel for each request until stdin closes."""
    listener = socket.socket(fileno=int(sys.argv[-1]))
    address = listener.getsockname()
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # as ipykernel_launcher does: never import from the working folder
    try:
        _preload()
    except Exception:  # the client falls back to starting kernels normally
        listener.close()
        _remove_socket(address)
        os._exit(3)
    request = _Server(listener).serve()
    if request is not None:  # this is a forked child: become the kernel
        _run_kernel(request)
    else:  # tidy up even if our parent could not (it was killed)
        _remove_socket(address)


def _remove_socket(address: str) -> None:
    try:
        os.unlink(address)
        os.rmdir(os.path.dirname(address))
    except OSError:
        pass


def _preload() -> None:
    import importlib

    # Some imports print notices (debugpy warns about frozen modules). A kernel prints them
    # into its captured output, which nobody sees; the zygote must not print them instead.
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        for name in KINDS.get(os.environ.get(_KIND_ENV, "default"), PRELOAD):
            try:
                importlib.import_module(name)
            except ImportError:
                if name in _REQUIRED:
                    raise
        from workbook.bank import load_bank

        load_bank()  # the question bank is immutable and cached: parse it once
        if os.environ.get(_KIND_ENV) == "app":
            try:  # builds no thread; a failure leaves it to each kernel (in the background)
                from widgets.personal_data import warm_up_now

                warm_up_now()
            except Exception:
                pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in ((1, saved[0]), (2, saved[1])):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
    gc.collect()
    gc.freeze()  # keep the collector off the shared pages in every child


@dataclass
class _Kernel:
    connection: socket.socket | None
    returncode: int | None = None


class _Server:
    def __init__(self, listener: socket.socket) -> None:
        self.pid = os.getpid()
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        self.pending: dict[socket.socket, bytes] = {}
        self.kernels: dict[int, _Kernel] = {}

    def serve(self) -> dict[str, Any] | None:
        """Serve until stdin closes (None), or return the request in a forked child."""
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_write)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(0, selectors.EVENT_READ, "parent")
        self.selector.register(self.wake_read, selectors.EVENT_READ, "wake")
        try:
            while True:
                for key, _ in self.selector.select():
                    if key.data == "accept":
                        connection, _ = self.listener.accept()
                        self.pending[connection] = b""
                        self.selector.register(connection, selectors.EVENT_READ, "request")
                    elif key.data == "parent":
                        if not os.read(0, 4096):
                            return None
                    elif key.data == "wake":
                        while _drain(self.wake_read):
                            pass
                        self._collect()
                    elif key.data == "request":
                        request = self._read_request(key.fileobj)  # type: ignore[arg-type]
                        if request is not None and self._fork(key.fileobj, request):  # type: ignore[arg-type]
                            return request
                    else:
                        self._client_closed(key.data)
                self._collect()
        finally:
            if os.getpid() == self.pid:
                self._stop()

    def _read_request(self, connection: socket.socket) -> dict[str, Any] | None:
        try:
            chunk = connection.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(connection)
            return None
        data = self.pending[connection] + chunk
        self.pending[connection] = data
        if b"\n" not in data:
            return None
        del self.pending[connection]
        self.selector.unregister(connection)
        try:
            request = json.loads(data.split(b"\n", 1)[0])
        except ValueError:
            request = None
        if not _well_formed(request):
            self._refuse(connection, "malformed request")
            return None
        return request

    def _fork(self, connection: socket.socket, request: dict[str, Any]) -> bool:
        """Fork a kernel; True in the child, False in the zygote."""
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:  # a fork would copy a process with threads: never
            self._refuse(connection, f"the zygote has {threads} threads")
            return False
        ready_read, ready_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_read)
                connection.close()
                self._forget()
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
                os.close(ready_write)  # the zygote may now hand out our pid
            except BaseException:
                os._exit(70)
            return True
        os.close(ready_write)
        os.read(ready_read, 1)  # end of file once the child is a session leader (or died)
        os.close(ready_read)
        self.kernels[pid] = _Kernel(connection)
        self.selector.register(connection, selectors.EVENT_READ, pid)
        try:
            connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        except OSError:
            self._client_closed(pid)
        return False

    def _forget(self) -> None:
        """In a new child: let go of everything that belongs to the zygote."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        self.listener.close()
        os.close(self.wake_read)
        os.close(self.wake_write)
        for connection in self.pending:
            connection.close()
        for kernel in self.kernels.values():
            if kernel.connection is not None:
                kernel.connection.close()
        self.pending.clear()
        self.kernels.clear()

    def _collect(self) -> None:
        """Report each kernel that has exited; reap those whose client has let go."""
        for pid, kernel in list(self.kernels.items()):
            if kernel.returncode is not None:
                continue
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = None
                kernel.returncode = -signal.SIGKILL
            if info is not None and info.si_pid == pid:
                exited = info.si_code == os.CLD_EXITED
                kernel.returncode = info.si_status if exited else -info.si_status
            if kernel.returncode is None:
                continue
            if kernel.connection is None:
                self._reap(pid)
                continue
            try:
                kernel.connection.sendall(
                    json.dumps({"returncode": kernel.returncode}).encode() + b"\n"
                )
            except OSError:
                self._client_closed(pid)

    def _client_closed(self, pid: int) -> None:
        kernel = self.kernels[pid]
        if kernel.connection is not None:
            self.selector.unregister(kernel.connection)
            kernel.connection.close()
            kernel.connection = None
        if kernel.returncode is None:
            _kill_group(pid)  # nobody is left to wait for it; _collect reaps it
        else:
            self._reap(pid)

    def _reap(self, pid: int) -> None:
        del self.kernels[pid]
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def _refuse(self, connection: socket.socket, reason: str) -> None:
        try:
            connection.sendall(json.dumps({"error": reason}).encode() + b"\n")
        except OSError:
            pass
        connection.close()

    def _drop(self, connection: socket.socket) -> None:
        self.pending.pop(connection, None)
        self.selector.unregister(connection)
        connection.close()

    def _stop(self) -> None:
        for pid, kernel in self.kernels.items():
            if kernel.returncode is None:
                _kill_group(pid)
        for pid in list(self.kernels):
            kernel = self.kernels[pid]
            if kernel.connection is not None:
                kernel.connection.close()
            self._reap(pid)
        for connection in list(self.pending):
            connection.close()
        self.selector.close()
        self.listener.close()


def _well_formed(request: Any) -> bool:
    return (
        isinstance(request, dict)
        and isinstance(request.get("args"), list)
        and isinstance(request.get("cwd"), str)
        and isinstance(request.get("env"), dict)
    )


def _drain(fd: int) -> bool:
    try:
        return bool(os.read(fd, 4096))
    except BlockingIOError:
        return False


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _register_preloaded_comm_targets() -> None:
    """ipywidgets registers its comm targets when it is imported inside a kernel; the zygote
    imported it before there was one. Without "jupyter.widget.control" a page fetches each
    widget's state one message at a time, which made a large page many times slower."""
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:
        widgets._handle_ipython()


def _run_kernel(request: dict[str, Any]) -> None:
    """In a forked child: become the kernel that ``python -m ipykernel_launcher`` starts."""
    import importlib.util

    from ipykernel.kernelapp import IPKernelApp

    args = [str(a) for a in request["args"]]
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    spec = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", *args]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = IPKernelApp.instance()
    app.parent_handle = os.getppid()  # exit if the zygote goes away
    app.initialize(args)
    _register_preloaded_comm_targets()
    app.start()
    # The kernel has been asked to shut down. Its control thread stopped this event loop
    # and is still flushing output through the IOPub thread. IPKernelApp.close, run at
    # exit, stops the IOPub thread and then waits for the control thread: if that flush
    # has not gone through by then, it never does, and the kernel hangs until it is killed.
    # (This is ipykernel's own race; a kernel started normally hits it too, now and then.)
    # Let the control threads finish first.
    for name in ("control_thread", "shell_channel_thread"):
        thread = getattr(app, name, None)
        if thread is not None and thread.is_alive():
            thread.stop()
            thread.join(timeout=10)
