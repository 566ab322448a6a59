"""A stand-in for crowd-kit 0.0.x, which the seed's aggregate_assignments.py was written for
(its ``performer`` column). Only on the PYTHONPATH of that script in
tests/toloka/test_seed_scripts.py; crowdline itself never imports it."""
