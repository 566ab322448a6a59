"""Stand-in for the seed's /code/create_training.py (see fake_toloka.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_toloka  # noqa: E402

fake_toloka.main("create_training")
