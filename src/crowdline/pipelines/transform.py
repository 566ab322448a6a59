"""Worker side: lay a datum out in a folder, run the user's code, collect its output.

This module runs inside executor workers (local processes or Dask workers). It reads inputs
from the store through a Workspace opened from the coordinator's settings and returns the
output files to the coordinator, which alone writes job state and output commits.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowdline.errors import Conflict, CrowdlineError, InvalidInput
from crowdline.pipelines import sandbox
from crowdline.pipelines.processes import batch_folder_prefix

WAIT_EXIT_CODE = 75  # EX_TEMPFAIL: a cmd transform asks to wait
INVALID_INPUT_EXIT_CODE = 65  # EX_DATAERR: the input is invalid; retrying cannot help
WAIT_FILE = ".crowdline-wait.json"
LOG_LIMIT = 64_000


class WaitFor(BaseException):  # noqa: N818 - it is a request, not an error
    """Raise from a transform to park the datum until ``condition`` holds.

    A ``BaseException`` (like ``KeyboardInterrupt``), so user code's ``except Exception``
    cannot swallow it.

    ``condition`` is ``"package.module:checker"``; ``checker(workspace, params) -> bool`` is
    called by the runner until it returns True, then the datum runs again (so transforms must
    be idempotent). No process is held while the datum waits.

        raise WaitFor("crowdline.crowd.conditions:pool_complete", pool_id=pool.id)
    """

    def __init__(self, condition: str, **params: Any) -> None:
        if ":" not in condition:
            raise ValueError(f"WaitFor condition {condition!r} must be 'package.module:function'")
        self.condition = condition
        self.params = params
        super().__init__(f"wait for {condition} {params}")


class DatumTimeout(BaseException):  # noqa: N818 - not swallowed by ``except Exception``
    pass


@dataclass(frozen=True)
class DatumContext:
    """What a running transform may ask about itself (``current_datum()``)."""

    job_id: str
    datum_id: str
    pipeline: str
    input_commits: dict[str, str]  # input name -> commit id
    settings: dict[str, Any] = field(repr=False, default_factory=dict)

    def workspace(self) -> Any:
        """The Workspace of the coordinator, opened in this worker process (cached)."""
        return worker_workspace(self.settings)


_current: contextvars.ContextVar[DatumContext | None] = contextvars.ContextVar(
    "crowdline_datum", default=None)


def current_datum() -> DatumContext:
    """The datum being processed; only valid inside a transform."""
    context = _current.get()
    if context is None:
        raise Conflict("current_datum() was called outside a running transform",
                       hint="call it from the pipeline's transform function")
    return context


@dataclass
class DatumTask:
    job_id: str
    pipeline: str
    datum_id: str
    datum_hash: str
    parts: list[dict[str, Any]]
    transform: dict[str, Any]
    env: dict[str, str]
    tries: int
    timeout: float | None
    input_commits: dict[str, str]


@dataclass
class DatumResult:
    datum_id: str
    state: str  # success | failed | waiting | recovered
    outputs: list[tuple[str, bytes]] = field(default_factory=list)
    log: str = ""
    error: str = ""
    tries: int = 0
    duration: float = 0.0
    wait_condition: str = ""
    wait_params: dict[str, Any] = field(default_factory=dict)
    permanent: bool = False  # failed on invalid input: retrying cannot help
    warnings: list[str] = field(default_factory=list)  # warnings.warn() of a Python transform


_workspaces: dict[str, Any] = {}
_workspace_lock = threading.Lock()


def worker_workspace(settings: dict[str, Any]) -> Any:
    from crowdline.workspace import Workspace

    key = json.dumps(settings, sort_keys=True, default=str)
    with _workspace_lock:
        if key not in _workspaces:
            home = settings.get("home")
            overrides = {k: v for k, v in settings.items() if k != "home"}
            _workspaces[key] = Workspace.open(home, **overrides)
        return _workspaces[key]


def run_batch(settings: dict[str, Any], tasks: list[DatumTask]) -> list[DatumResult]:
    """Run each datum of a batch (with its retries); never raises for user errors."""
    workspace = worker_workspace(settings)
    with tempfile.TemporaryDirectory(prefix=batch_folder_prefix()) as tmp:
        scratch = Scratch(Path(tmp) / "pfs")
        scratch.root.mkdir()
        return [_run_one(workspace, settings, task, scratch) for task in tasks]


class Scratch:
    """One datum root per batch, emptied between datums instead of made and removed.

    Creating and removing folders costs milliseconds on a busy journaled disk, more than
    a small datum's whole run; emptying a flat folder costs a few unlinks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def prepare(self, names: list[str]) -> tuple[dict[str, Path], Path]:
        wanted = {*names, "out"}
        for entry in os.scandir(self.root):
            if entry.name not in wanted:
                _remove(Path(entry.path))
        folders = {}
        for name in wanted:
            folder = self.root / name
            if folder.exists():
                _empty(folder)
            else:
                folder.mkdir()
            folders[name] = folder
        output = folders.pop("out")
        return folders, output


def _empty(folder: Path) -> None:
    for entry in os.scandir(folder):
        _remove(Path(entry.path))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _run_one(workspace: Any, settings: dict[str, Any], task: DatumTask,
             scratch: Scratch) -> DatumResult:
    started = time.monotonic()
    log = io.StringIO()
    result = DatumResult(task.datum_id, "failed")
    context = DatumContext(task.job_id, task.datum_id, task.pipeline,
                           dict(task.input_commits), settings)
    for attempt in range(1, task.tries + 1):
        result.tries = attempt
        log.write(f"--- try {attempt}/{task.tries} ---\n")
        try:
            inputs, output = scratch.prepare([part["name"] for part in task.parts])
            _materialise(workspace, task, inputs)
            if task.transform.get("python"):
                result.warnings = _call_python(task.transform["python"], task, context,
                                               (inputs, output), log)
            else:
                _call_cmd(task, scratch.root, inputs, output, log)
        except WaitFor as wait:
            result.state, result.error = "waiting", ""
            result.wait_condition, result.wait_params = wait.condition, wait.params
            break
        except DatumTimeout:
            result.error = f"datum timed out after {task.timeout:g}s"
        except InvalidInput as exc:  # the input is wrong: another try gives the same answer
            result.error, result.permanent = f"{type(exc).__name__}: {exc}", True
            log.write(traceback.format_exc())
            log.write(f"error: {result.error}\n(invalid input: not tried again)\n")
            break
        except Exception as exc:  # noqa: BLE001 - user code may raise anything
            result.error = f"{type(exc).__name__}: {exc}"
            log.write(traceback.format_exc())
        else:
            result.state, result.error = "success", ""
            result.outputs = _collect(output)
            break
        log.write(f"error: {result.error}\n")
    if result.state == "failed" and (task.transform.get("on_error")
                                     or task.transform.get("err_cmd")):
        _recover(workspace, task, context, scratch, result, log)
    result.duration = time.monotonic() - started
    text = log.getvalue()
    result.log = text if len(text) <= LOG_LIMIT else "…(truncated)\n" + text[-LOG_LIMIT:]
    return result


def _recover(workspace: Any, task: DatumTask, context: DatumContext, scratch: Scratch,
             result: DatumResult, log: io.StringIO) -> None:
    """Run the error handler; if it succeeds the datum is RECOVERED (no output, as in
    Pachyderm: the job succeeds and the datum is not passed downstream)."""
    log.write("--- error handler ---\n")
    try:
        inputs, output = scratch.prepare([part["name"] for part in task.parts])
        _materialise(workspace, task, inputs)
        if task.transform.get("on_error"):
            _call_python(task.transform["on_error"], task, context,
                         (inputs, output, result.error), log)
        else:
            handler = dict(task.transform, cmd=task.transform["err_cmd"],
                           stdin=task.transform.get("err_stdin") or (), accept_return_code=())
            _call_cmd(DatumTask(**{**vars(task), "transform": handler,
                                   "env": {**task.env, "CROWDLINE_ERROR": result.error}}),
                      scratch.root, inputs, output, log)
    except (WaitFor, DatumTimeout, Exception) as exc:  # noqa: BLE001 - user code
        log.write(traceback.format_exc())
        log.write(f"error handler failed: {type(exc).__name__}: {exc}\n")
        return
    result.state = "recovered"
    log.write(f"recovered from: {result.error}\n")


def _materialise(workspace: Any, task: DatumTask, inputs: dict[str, Path]) -> None:
    store = workspace.store
    # Blobs are content-addressed and the datum already names each file's hash, so the
    # content is read straight from the object store (no metadata query per file).
    blobs = getattr(store, "blobs", None)
    for part in task.parts:
        folder = inputs[part["name"]]
        for path, digest, _size in part["files"]:
            target = folder / path.lstrip("/")
            if target.parent != folder:
                target.parent.mkdir(parents=True, exist_ok=True)
            if blobs is not None and digest:
                data = blobs.get(digest)
            else:
                data = store.get_file(part["repo"], part["commit"], path)
            target.write_bytes(data)


def _collect(output: Path) -> list[tuple[str, bytes]]:
    files = []
    for path in sorted(output.rglob("*")):
        if path.is_file() and not (path.parent == output and path.name == WAIT_FILE):
            files.append(("/" + path.relative_to(output).as_posix(), path.read_bytes()))
    return files


_functions: dict[str, Callable[..., Any]] = {}


def load_callable(reference: str) -> Callable[..., Any]:
    """``"package.module:function"`` imported once per process."""
    if reference not in _functions:
        module_name, _, attribute = reference.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise CrowdlineError(f"cannot import {reference!r}: {exc}",
                                 hint="check the module path and that it is installed "
                                 "where the workers run") from exc
        _functions[reference] = function
    return _functions[reference]


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    # SIGALRM only works in a main thread; Dask runs tasks in threads (no limit there).
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise DatumTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _call_python(reference: str, task: DatumTask, context: DatumContext,
                 arguments: tuple[Any, ...], log: io.StringIO) -> list[str]:
    """Call the transform; what it reports with ``warnings.warn`` is returned (and logged)
    so that `crowdline run` can show it."""
    function = load_callable(reference)
    token = _current.set(context)
    try:
        with (_environment(task.env), contextlib.redirect_stdout(log),
              contextlib.redirect_stderr(log), _time_limit(task.timeout),
              warnings.catch_warnings(record=True) as caught):
            warnings.simplefilter("always", UserWarning)
            function(*arguments)
    finally:
        _current.reset(token)
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    for message in said:
        log.write(f"warning: {message}\n")
    return said


def _call_cmd(task: DatumTask, root: Path, inputs: dict[str, Path], output: Path,
              log: io.StringIO) -> None:
    env = dict(os.environ)
    env.update(task.env)
    env["PFS_ROOT"] = str(root)
    env["CROWDLINE_DATUM_ID"] = task.datum_id
    env["CROWDLINE_JOB_ID"] = task.job_id
    env["PACH_JOB_ID"] = task.job_id
    env["PACH_DATUM_ID"] = task.datum_id
    if len(inputs) == 1:
        env["CROWDLINE_INPUT"] = str(next(iter(inputs.values())))
    env["CROWDLINE_OUTPUT"] = str(output)
    for part in task.parts:
        if part.get("join_key"):
            env[f"PACH_DATUM_{part['name']}_JOIN_ON"] = part["join_key"]
    command = list(task.transform["cmd"])
    if sandbox.pfs_supported():
        mount_point = root.parent / "ns"
        mount_point.mkdir(exist_ok=True)
        prepare = sandbox.pfs_namespace(root, mount_point)
    else:
        prepare = sandbox.pdeathsig_only
    lines = task.transform.get("stdin") or ()
    stdin = "\n".join(lines) + "\n" if lines else None
    try:
        done = subprocess.run(command, cwd=root, env=env, input=stdin, text=True,
                              capture_output=True, timeout=task.timeout, check=False,
                              preexec_fn=prepare)  # noqa: PLW1509 - namespace set-up
    except subprocess.TimeoutExpired as exc:
        raise DatumTimeout() from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise CrowdlineError(f"cannot run {command[0]!r}: {exc}",
                             hint="check transform.cmd") from exc
    log.write(done.stdout)
    log.write(done.stderr)
    if done.returncode == WAIT_EXIT_CODE and (output / WAIT_FILE).exists():
        request = json.loads((output / WAIT_FILE).read_text())
        raise WaitFor(request["condition"], **request.get("params", {}))
    if done.returncode == INVALID_INPUT_EXIT_CODE:
        raise InvalidInput(f"command exited with code {INVALID_INPUT_EXIT_CODE} "
                           "(EX_DATAERR: the input is invalid)",
                           hint="fix or delete the input file; it is not retried until it "
                                "or the pipeline changes")
    accepted = {0, *task.transform.get("accept_return_code", ())}
    if done.returncode not in accepted:
        raise CrowdlineError(f"command exited with code {done.returncode}",
                             hint="see the datum's log")
