"""HTTP/1.1 without I/O: bytes in, events out; responses framed into bytes. No sockets, selectors or
clocks are imported here, so every rule can be tested byte by byte."""
