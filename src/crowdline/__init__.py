"""crowdline: self-hosted human-in-the-loop data pipelines.

The SDK starts at :class:`crowdline.Workspace`::

    import crowdline
    ws = crowdline.Workspace.init("./.crowdline")
    ws.store.create_repo("headlines")
"""

from crowdline.errors import CrowdlineError
from crowdline.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["CrowdlineError", "Workspace", "__version__"]
