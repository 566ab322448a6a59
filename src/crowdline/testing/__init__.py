"""Test harnesses shipped with crowdline: real servers on loopback for the back-end suites."""
