"""Check that a shared workspace folder's file locks work between machines.

The app's store saves a project under an exclusive ``flock`` on the project's ``.lock``
file, then replaces ``workbook.json`` with an atomic rename (``workbook/store.py``). On a
local disk that always works. On a network filesystem the lock must be seen by every
machine (pod, VM) that mounts the folder, or two people saving at the same moment can lose
an edit. Run this on two of those machines, with the same folder:

    machine A:  python3 deploy/check_workspace_lock.py hold /srv/ethics-workbook/workspace
    machine B:  python3 deploy/check_workspace_lock.py try  /srv/ethics-workbook/workspace

"hold" takes the lock and keeps it for 120 seconds (or the number of seconds given after
the folder); "try", run meanwhile, says whether it
found the lock taken (locks work between the machines) or not (they do not: do not share
this folder between machines). Both leave nothing behind but the empty file
``.lock-check``. Only the Python standard library is needed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time

NAME = ".lock-check"
HOLD_SECONDS = 120


def open_lock(folder: str) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(os.path.join(folder, NAME), flags, 0o666)


def main(argv: list[str]) -> int:
    usage = "usage: check_workspace_lock.py hold FOLDER [SECONDS] | try FOLDER"
    if len(argv) < 2 or argv[0] not in ("hold", "try") or not os.path.isdir(argv[1]):
        print(usage + " (FOLDER: an existing folder)", file=sys.stderr)
        return 2
    action, folder = argv[:2]
    seconds = HOLD_SECONDS
    if action == "hold" and len(argv) == 3 and argv[2].isdigit():
        seconds = int(argv[2])
    elif len(argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    fd = open_lock(folder)
    host = os.uname().nodename
    if action == "hold":
        fcntl.flock(fd, fcntl.LOCK_EX)
        print(
            f"{host}: holding the lock on {folder}/{NAME} for {seconds} s; now run "
            f"`check_workspace_lock.py try {folder}` on the other machine",
            flush=True,
        )
        time.sleep(seconds)
        fcntl.flock(fd, fcntl.LOCK_UN)
        print(f"{host}: released")
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            print(
                f"OK: {host} sees the lock the other machine holds on {folder}: the workspace "
                "can be shared between them"
            )
            return 0
        print(f"Error: cannot lock {folder}/{NAME}: {exc.strerror}", file=sys.stderr)
        return 1
    fcntl.flock(fd, fcntl.LOCK_UN)
    print(
        f"NOT SAFE: {host} could take the lock on {folder} although the other machine holds "
        "it (or `hold` is not running there). If `hold` is running, locks do not work between "
        "these machines on this filesystem: do not share this folder between them."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
