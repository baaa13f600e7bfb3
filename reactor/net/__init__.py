"""Connections: the transport of one socket and its I/O states (transport.py, iostate.py), its send
queue, TLS, accepting and connecting, raw TCP and UDP, and the byte tunnel."""
