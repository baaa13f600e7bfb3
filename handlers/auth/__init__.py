"""``--auth-file``: HTTP Basic in front of every handler (basic.py), and the command that writes the
file's lines (``python -m handlers.auth.passwd``)."""
