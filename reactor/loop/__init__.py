"""The event loop: the selector, the ready queue, the timer heap (eventloop.py, timers.py), the
deadline a connection pushes back cheaply (deadline.py) and the clocks (clock.py)."""
