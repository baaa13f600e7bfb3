"""Static files: the handler (staticfiles.py), the served tree and its rules (site.py), the answers kept
by request path (filecache.py), a file's answer (fileanswer.py, files.py, ranges.py,
conditional.py, negotiation.py, compression.py), listings and archives, error pages, ``--spa``."""
