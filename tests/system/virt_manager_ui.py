# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives virt-manager like a user, for test_virt_manager.py: run inside a
D-Bus session of its own (dbus-run-session) on an X server (DISPLAY).

  virt_manager_ui.py URI DOMAIN SHOTS_DIR

It starts virt-manager on URI, then: waits for DOMAIN's row (shut off),
runs it, pauses it, sees it resumed with virsh, opens its serial console
and runs a command there, shuts it down.  xdotool clicks and
types where the accessibility tree (AT-SPI, read with dogtail) places the
widgets; the tree also says what the windows show.  Prints "ok: STEP" per
step; any failure is an exception (exit status 1).

A separate process because libdbus ends the process that loses its
session bus, which the test's own teardown would do.
"""
import os
import subprocess
import sys
import time

from dogtail import config

# Before dogtail.tree is imported: it would otherwise insist on the
# desktop's accessibility setting, which no desktop sets here.
config.config.checkForA11y = False
config.config.logDebugToFile = False
config.config.searchShowingOnly = False
from dogtail import tree  # noqa: E402

TIMEOUT = float(os.environ.get("DUVISOR_BOOT_TIMEOUT", "240"))
MANAGER = "Virtual Machine Manager"


def find(app, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            node = app.findChild(pred, retry=False, requireResult=False)
            if node is not None:
                return node
        except Exception:   # the tree changes under us
            pass
        if time.monotonic() > deadline:
            raise AssertionError("not found in virt-manager's windows")
        time.sleep(0.3)


def in_frame(node, title):
    while node is not None and node.roleName != "frame":
        node = node.parent
    return node is not None and node.name == title


def button(app, label, frame=MANAGER):
    return find(app, lambda n: n.roleName in ("push button",
                                              "toggle button") and
                n.name == label and in_frame(n, frame))


def row(app, name):
    return find(app, lambda n: n.roleName == "table cell" and
                n.name.startswith(name + "\n"))


def wait_row(app, name, state, timeout=TIMEOUT):
    """The row of @name reads "NAME\\nSTATE"."""
    deadline = time.monotonic() + timeout
    while row(app, name).name != f"{name}\n{state}":
        if time.monotonic() > deadline:
            raise AssertionError(f"row says {row(app, name).name!r}, "
                                 f"not {state}")
        time.sleep(0.3)
    print(f"ok: {state}", flush=True)


def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)


def click(node):
    (x, y), (w, h) = node.position, node.size
    xdotool("mousemove", str(x + w // 2), str(y + h // 2), "click", "1")


def application(timeout=TIMEOUT):
    """virt-manager's accessibility root: on a loaded test host it may
    take far longer to appear than dogtail's own retries wait."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return tree.root.application("virt-manager")
        except Exception:   # dogtail's SearchError: not there yet
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def shot(shots, name):
    subprocess.run(["import", "-window", "root",
                    os.path.join(shots, f"virt-manager-{name}.png")],
                   check=True)


def drive(uri, name, shots):
    app = application()
    wait_row(app, name, "Shutoff", timeout=60)
    shot(shots, "list")

    click(row(app, name))
    click(button(app, "Run"))
    wait_row(app, name, "Running")

    click(button(app, "Pause"))
    wait_row(app, name, "Paused", timeout=30)
    # Resumed elsewhere: the row follows our events.
    subprocess.run(["virsh", "-c", uri, "resume", name], check=True,
                   stdout=subprocess.DEVNULL)
    wait_row(app, name, "Running", timeout=30)

    # Without graphics virt-manager shows the serial console at once.
    click(button(app, "Open"))
    term = find(app, lambda n: n.roleName == "terminal" and
                in_frame(n, f"{name} on duvisor"))
    click(term)
    deadline = time.monotonic() + TIMEOUT
    while "vm-42" not in term.text:
        if time.monotonic() > deadline:
            raise AssertionError("console shows: " + term.text[-2000:])
        xdotool("type", "--delay", "50", "echo vm-$((6*7))\r")
        time.sleep(3)
    shot(shots, "console")
    print("ok: console", flush=True)

    # From the console window, which now covers the manager's toolbar.
    click(button(app, "Shut Down", frame=f"{name} on duvisor"))
    wait_row(app, name, "Shutoff")
    shot(shots, "shutoff")


def main():
    uri, name, shots = sys.argv[1:4]
    with open(os.path.join(shots, "virt-manager.log"), "w") as log:
        vm = subprocess.Popen(["virt-manager", "--no-fork", "--debug",
                               "--connect", uri], stdout=log,
                              stderr=subprocess.STDOUT,
                              env=dict(os.environ,
                                       GTK_MODULES="gail:atk-bridge",
                                       GSETTINGS_BACKEND="memory"))
        try:
            drive(uri, name, shots)
        except BaseException:
            shot(shots, "failure")     # what the window showed
            raise
        finally:
            vm.terminate()
            vm.wait(20)


if __name__ == "__main__":
    main()
