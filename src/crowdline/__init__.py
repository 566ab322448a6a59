"""crowdline: self-hosted human-in-the-loop data pipelines.

The SDK starts at :class:`crowdline.Workspace`::

    import crowdline
    ws = crowdline.Workspace.init("./.crowdline")
    ws.store.create_repo("headlines")
"""

from typing import TYPE_CHECKING, Any

from crowdline.errors import CrowdlineError

if TYPE_CHECKING:
    from crowdline.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["CrowdlineError", "Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `crowdline --help` should not pay for the database layer.
    if name == "Workspace":
        from crowdline.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'crowdline' has no attribute {name!r}")
