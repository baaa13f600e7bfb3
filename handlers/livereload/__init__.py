"""``--live-reload``: the script and its event streams (reloader.py, livereload.js), the script tag
put into HTML files (inject.py), and the watch of the served trees (treewatch.py, inotify.py)."""
