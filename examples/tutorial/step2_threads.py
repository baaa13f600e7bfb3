"""Chapter 2: a thread per client, as socketserver.ThreadingMixIn does it.

The same ``handle`` as chapter 1, now on its own thread for each connection: a slow client blocks
only its own thread. The price is a thread (a stack, a kernel task, a share of the GIL) for every
connection, busy or idle, and no way to bound memory but to refuse connections.

    python3 -m examples.tutorial.step2_threads 8000
"""

from __future__ import annotations

import socket
import sys
import threading

from examples.tutorial.listen import listening_socket, log, name
from examples.tutorial.step1_blocking import handle


def serve(listener: socket.socket) -> None:
    while True:
        client, address = listener.accept()
        # daemon: the process may exit with clients still connected (ThreadingMixIn.daemon_threads)
        thread = threading.Thread(target=handle, args=(client, address), daemon=True)
        log(f"{name(address)} accepted threads={threading.active_count() + 1}")  # with the one it starts
        thread.start()


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 2: a thread per client.")
    serve(listener)
    return 0


if __name__ == "__main__":
    sys.exit(main())
