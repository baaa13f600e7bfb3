"""``--trace``: the tracer (tracer.py), reading a trace back (tracelog.py), the ring of the last facts
the status page keeps (tracering.py), and the timeline drawn from them (traceview.py)."""
