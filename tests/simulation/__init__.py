"""Deterministic simulation: the real connection code under seeded network faults (issue 15).

``python -m tests.simulation --seeds N --from K`` runs seeds K..K+N-1 and prints the failing ones;
``--seed S --trace`` replays one with a readable trace. See world.py for what a run is and checks.
"""
