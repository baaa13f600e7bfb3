"""The timestamping TCP server of the socket tutorials: every piece of data a client sends comes
back as ``[ctime] data``, where the seed's loop did ``conn.send(b"[%s] %s" % (ctime(), data))``
after each ``recv``.

    python -m examples.timestamp_echo [-b ADDRESS] [port]      # default 127.0.0.1 9998
"""

from __future__ import annotations

import sys
import time

from examples.common import run, stream_starter
from reactor.net.stream import StreamProtocol


class TimestampEcho(StreamProtocol):
    def data_received(self, data: bytes) -> None:
        self.transport.write(b"[%s] %s" % (time.ctime().encode(), data))

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


def main(argv: list[str] | None = None) -> int:
    return run(
        argv,
        module="examples.timestamp_echo",
        what="a TCP timestamping echo",
        default_port=9998,
        start=stream_starter(TimestampEcho),
    )


if __name__ == "__main__":
    sys.exit(main())
