"""The explorer in a real JupyterLab, driven by a real headless Chromium (issue 7).

A small demo is generated into a temporary folder next to a copy of
``notebooks/explore.ipynb`` whose ``config_path`` parameter points at it (injected the
way papermill does it). A ``jupyter lab`` server is started on loopback with a token, and
Debian's ``chromium``, driven by Playwright, opens the notebook, runs every cell from the
"Run" menu, waits for the widgets to render, changes the first dropdown and waits for the
explorer's output to change. No JavaScript error may reach the console.

Screenshots go to ``test-artifacts/`` (or ``$OBSKIT_ARTIFACTS``): ``explorer.png`` after
the run, ``explorer-changed.png`` after the dropdown change, ``explorer-failed.png`` when
something failed. With ``OBSKIT_UPDATE_SCREENSHOT=1`` a passing run also copies
``explorer.png`` to ``docs/explorer.png``, the picture in the README::

    OBSKIT_UPDATE_SCREENSHOT=1 .venv/bin/python -m pytest tests/test_browser.py

Needs the Python ``playwright`` package (the ``dev`` extra) and ``/usr/bin/chromium``
(``.ci/run`` installs it); ``playwright install`` is not used. Otherwise the test skips.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
DEMO_ROWS = 20_000
VIEWPORT = {"width": 1440, "height": 1100}

# Every wait is bounded, so that a broken server or page fails the test instead of hanging.
SERVER_START_S = 120  # until /api/status answers
SERVER_STOP_S = 30  # after /api/shutdown, before SIGTERM/SIGKILL
UI_MS = 90_000  # page load, menus, widget rendering
RUN_ALL_MS = 420_000  # executing the whole notebook on a small, shared machine
CHANGE_MS = 120_000  # the explorer reacting to a new dropdown value

# Every console message of type "error" fails the test: no filter has been needed so far.
# (JupyterLab 4.6 logs one warning here, about jupyterlab-plotly's @lumino/widgets version
# range; warnings are not collected.)


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("OBSKIT_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _artifact_dir() -> Path:
    path = Path(os.environ.get("OBSKIT_ARTIFACTS") or REPO / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", timeout: float = 10):
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
        data=b"" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def _tail(path: Path, lines: int = 60) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sync_playwright():
    api = pytest.importorskip(
        "playwright.sync_api",
        reason="the Python playwright package is not installed (pip install -e '.[dev]')",
    )
    if _chromium() is None:
        pytest.skip(
            "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        )
    return api.sync_playwright


@pytest.fixture
def lab_root(tmp_path):
    """A folder holding the demo and ``explore.ipynb`` parameterised to use it."""
    from obskit.demo import generate_demo

    assert NOTEBOOK.is_file(), f"{NOTEBOOK} is missing"
    root = tmp_path / "lab"
    root.mkdir()
    generate_demo(root / "demo", rows=DEMO_ROWS)
    config = root / "demo" / "config.yml"
    assert config.is_file()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert tagged, "explore.ipynb has no cell tagged 'parameters'"
    assert "config_path" in tagged[0].source, "the parameters cell does not set config_path"
    # A fresh run: whatever outputs or saved widget state the committed file carries, the
    # browser must show what the kernel produces now.
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    # The project's kernel: the venv's "python3" kernelspec (Makefile: ipykernel install
    # --sys-prefix). A known name also keeps JupyterLab from asking which kernel to use.
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    # Papermill's way: a cell tagged "injected-parameters" right after the parameters cell.
    injected = nbformat.v4.new_code_cell(f"# Parameters\nconfig_path = {str(config)!r}\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(nb.cells.index(tagged[0]) + 1, injected)
    nbformat.write(nb, root / "explore.ipynb")
    return root


@pytest.fixture
def jupyter_lab(tmp_path, lab_root):
    """A real ``jupyter lab`` on 127.0.0.1 serving ``lab_root``; yields ``(base_url, token)``.

    Jupyter's per-user folders point into ``tmp_path``, so the user's own settings,
    workspaces and kernelspecs play no part; the venv's (``sys.prefix``) ones still do.
    """
    home = tmp_path / "jupyter"
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab"
    # No news, no update check, no toast over the screenshot; every cell in the DOM.
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_PREFER_ENV_PATH="1",
        IPYTHONDIR=str(home / "ipython"),
    )
    # The Makefile exports MPLBACKEND=Agg for headless runs; in a kernel it would swallow
    # the explorer's figures. Let ipykernel pick its inline backend, as it does for users.
    env.pop("MPLBACKEND", None)

    port = _free_port()
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "jupyter-lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={lab_root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI containers run as root; jupyter refuses without this flag
        command.append("--allow-root")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=lab_root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{_tail(log_path)}")
            with suppress(OSError, ValueError):
                if _api(base, token, "/api/status", timeout=2) is not None:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer within {SERVER_START_S}s:\n{_tail(log_path)}"
                )
            time.sleep(0.5)
        yield base, token
    finally:
        _stop_lab(proc, base, token)
        print(f"jupyter lab log: {log_path}")


def _stop_lab(proc: subprocess.Popen, base: str, token: str) -> None:
    """Shut the kernels down, then the server; escalate to signals if either hangs."""
    if proc.poll() is None:
        with suppress(OSError, ValueError):
            for kernel in _api(base, token, "/api/kernels") or []:
                with suppress(OSError, ValueError):
                    _api(
                        base,
                        token,
                        f"/api/kernels/{kernel['id']}",
                        method="DELETE",
                        timeout=SERVER_STOP_S,
                    )
        with suppress(OSError, ValueError):
            _api(base, token, "/api/shutdown", method="POST")
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=SERVER_STOP_S)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- page helpers

# A widget in a cell's output: the ipywidgets renderer puts its `.jupyter-widgets` node right
# inside the output node. Outputs nested in widgets (an ipywidgets Output) are not counted.
WIDGET_VIEW = (
    ".jp-Notebook .jp-OutputArea-output:has(> .jupyter-widgets)"
    ":not(.jupyter-widgets .jp-OutputArea-output)"
)

# JupyterLab 4 shows a code cell's prompt as "[n]:" once run, "[*]:" while queued or running
# and "[ ]:" before. An exception's output is rendered as stderr holding the traceback.
_RUN_STATE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const errors = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
    .filter(o => o.dataset.mimeType === 'application/vnd.jupyter.error'
      || (o.dataset.mimeType === 'application/vnd.jupyter.stderr'
          && o.textContent.includes('Traceback (most recent call last)')))
    .map(o => o.textContent.slice(0, 4000));
  const busy = prompts.some(p => p.includes('*'));
  const done = prompts.length > 0 && !busy
    && (errors.length > 0 || prompts.every(p => /^\\[\\d+\\]:$/.test(p)));
  return {prompts, errors, done};
}"""

# What the explorer shows: the text and pictures of its widget views, minus the controls.
_SNAPSHOT_JS = """() => [...document.querySelectorAll(WIDGET_VIEW)].map(view => {
  const clone = view.cloneNode(true);
  clone.querySelectorAll('select, input, button, .widget-readout').forEach(e => e.remove());
  const pictures = [...view.querySelectorAll('img, svg, canvas')].map(e =>
    e.tagName === 'IMG' ? e.src : e.tagName === 'CANVAS' ? e.toDataURL() : e.outerHTML);
  return clone.innerText + '\\n' + pictures.join('\\n');
}).join('\\n----\\n')""".replace("WIDGET_VIEW", json.dumps(WIDGET_VIEW))


def _wait_for_kernel(base: str, token: str, timeout_s: float) -> None:
    """Until the notebook's kernel is up, idle and connected to the page.

    Cells run before that make JupyterLab ask which kernel to start.
    """
    deadline = time.monotonic() + timeout_s
    sessions: list = []
    while time.monotonic() < deadline:
        with suppress(OSError, ValueError):
            sessions = _api(base, token, "/api/sessions") or []
            kernels = [s["kernel"] for s in sessions if s.get("path") == "explore.ipynb"]
            if any(
                k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in kernels
            ):
                return
        time.sleep(0.5)
    raise AssertionError(f"no idle, connected kernel for explore.ipynb: {sessions}")


def _idle(page, timeout: float) -> None:
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        state="attached", timeout=timeout
    )


def _menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then ``item`` in it, as a user would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(
        ".lm-Menu-item:not(.lm-mod-disabled)",
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")),
    ).click()


def _assert_no_cell_errors(page) -> None:
    errors = page.evaluate(_RUN_STATE_JS)["errors"]
    assert not errors, "a cell or widget callback raised:\n" + "\n\n".join(errors)


def _drive(page, base: str, token: str, artifacts: Path) -> tuple[str, list[str]]:
    """Open, run, check, photograph and operate the explorer.

    Returns a one-line summary and the defects that do not stop the test on the spot.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(
        f"{base}/lab/tree/explore.ipynb?token={token}", wait_until="domcontentloaded", timeout=UI_MS
    )
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=UI_MS)
    _wait_for_kernel(base, token, UI_MS / 1000)
    _idle(page, UI_MS)
    # Room for the explorer: a fresh workspace shows the file browser; fold it away.
    with suppress(PlaywrightTimeout):
        page.locator(".jp-FileBrowser .jp-DirListing-item").first.wait_for(timeout=10_000)
    current_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if current_tab.count():
        current_tab.first.click()

    started = time.monotonic()
    _menu(page, "Run", "Run All Cells")
    try:
        page.wait_for_function(f"() => ({_RUN_STATE_JS})().done", timeout=RUN_ALL_MS, polling=500)
    except PlaywrightTimeout:
        raise AssertionError(
            f"the notebook did not finish in {RUN_ALL_MS / 1000:.0f}s: "
            f"{page.evaluate(_RUN_STATE_JS)}"
        ) from None
    ran_s = time.monotonic() - started
    _idle(page, UI_MS)
    _assert_no_cell_errors(page)

    # The widgets, rendered by the ipywidgets frontend rather than shown as text.
    views = page.locator(WIDGET_VIEW)
    views.first.wait_for(timeout=UI_MS)
    selects = views.locator(".widget-dropdown select").locator("visible=true")
    selects.first.wait_for(timeout=UI_MS)
    notebook_text = page.locator(".jp-Notebook").inner_text()
    for bad in (
        "Loading widget...",
        "Error displaying widget",
        "A Jupyter widget could not be displayed",
    ):
        assert bad not in notebook_text, f"the notebook shows {bad!r}"
    assert not re.search(
        r"^(VBox|HBox|Tab|Dropdown|Explorer|interactive)\(", notebook_text, re.M
    ), "a widget shows as its text repr"
    # A dropdown on show with nothing selected looks broken. (ipywidgets 8 shows a blank
    # dropdown for value=None, even when None is one of the options; index=0 selects it.)
    problems = [
        f"a dropdown shows no selection: {label!r}"
        for label in selects.evaluate_all(
            "ss => ss.filter(s => s.selectedIndex < 0)"
            ".map(s => s.closest('.widget-dropdown').querySelector('label')?.textContent)"
        )
    ]

    # The picture: the explorer at the top of the notebook.
    views.first.evaluate("v => v.scrollIntoView({block: 'start'})")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(1000)  # settle: images decode, fonts and layout finish
    page.screenshot(path=artifacts / "explorer.png")

    # Operate it: another value in the first dropdown on show that offers a choice; what
    # the explorer shows must follow.
    dropdown = next(
        (
            selects.nth(i)
            for i in range(selects.count())
            if selects.nth(i).locator("option").count() >= 2
        ),
        None,
    )
    assert dropdown is not None, "no dropdown on show offers two options"
    options = dropdown.locator("option").all_inner_texts()
    current = dropdown.evaluate(
        "s => s.selectedIndex < 0 ? null : s.options[s.selectedIndex].textContent"
    )
    other = options[1] if current != options[1] else options[0]
    before = page.evaluate(_SNAPSHOT_JS)
    dropdown.select_option(label=other)
    try:
        page.wait_for_function(
            f"() => ({_SNAPSHOT_JS})() !== {json.dumps(before)}", timeout=CHANGE_MS, polling=250
        )
    except PlaywrightTimeout:
        raise AssertionError(
            f"choosing {other!r} instead of {current!r} changed nothing "
            f"within {CHANGE_MS / 1000:.0f}s"
        ) from None
    _idle(page, CHANGE_MS)
    page.wait_for_timeout(1000)
    _assert_no_cell_errors(page)
    page.screenshot(path=artifacts / "explorer-changed.png")
    summary = f"run all: {ran_s:.1f}s; dropdown {current!r} -> {other!r}"
    return summary, problems


# --------------------------------------------------------------------------- the test


def test_explorer_renders_in_jupyterlab(sync_playwright, jupyter_lab):
    base, token = jupyter_lab
    artifacts = _artifact_dir()
    js_errors: list[str] = []

    def on_console(message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        js_errors.append(f"console: {message.text} ({url})")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            headless=True,
            timeout=UI_MS,
            # root in a container: no user namespaces for the sandbox; small /dev/shm.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(UI_MS)
            page.on("console", on_console)
            page.on("pageerror", lambda error: js_errors.append(f"pageerror: {error}"))
            try:
                summary, problems = _drive(page, base, token, artifacts)
                print(summary)
            except Exception:
                with suppress(Exception):
                    page.screenshot(path=artifacts / "explorer-failed.png")
                if js_errors:
                    print("JavaScript errors so far:\n" + "\n".join(js_errors))
                raise
        finally:
            browser.close()

    assert not js_errors, "JavaScript errors:\n" + "\n".join(js_errors)
    assert not problems, "\n".join(problems)
    # The README's picture comes only from a run that passed.
    if os.environ.get("OBSKIT_UPDATE_SCREENSHOT") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(artifacts / "explorer.png", REPO / "docs" / "explorer.png")
