"""Where the app keeps its state, locally and on a Hugging Face Space.

A Space's disk is wiped on every restart; only its persistent storage, mounted at
``/data`` once it is turned on in the Space's settings, survives. So the ratings
database goes to ``$COLORLAB_DATA`` if set, else ``/data`` when that folder exists and is
writable, else ``./data``, and in the last case the Turing tab says that on a Space the
ratings will be lost when it restarts.

The organiser's token (``colorlab.studies.access``, ``$COLORLAB_ORGANISER_TOKEN``) is, on
a Space, a *secret* of that name (Settings -> Variables and secrets): it reaches the app
as an environment variable and is never in the repository or the UI; its name is
``colorlab.studies.access.TOKEN_ENV``.

Nothing here imports torch or Gradio.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "COLORLAB_DATA"
SPACE_ENV = "SPACE_ID"            # set by Hugging Face on every Space
PERSISTENT = Path("/data")        # a Space's persistent storage, when it has some
LOCAL = Path("data")


@dataclass(frozen=True)
class Storage:
    directory: Path
    persistent: bool      # /data or a folder named by $COLORLAB_DATA (False: the ./data fallback)
    reason: str           # why this folder, for the log and the Turing tab

    def notice(self) -> str:
        """Markdown for the Turing tab: empty when ratings are safe."""
        if self.persistent:
            return ""
        return (f"**Ratings are saved in `{self.directory}/`, not in persistent storage: on a Hugging Face "
                "Space they are lost when it restarts.** The Space's owner can turn on persistent storage "
                "(Settings -> Persistent storage); the app then keeps them in `/data`.")


def writable(directory: Path) -> bool:
    """Whether ``directory`` is an existing folder this process can create files in."""
    if not directory.is_dir():
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".colorlab-probe-"):
            return True
    except OSError:
        return False


def on_space(environ=None) -> bool:
    return bool((os.environ if environ is None else environ).get(SPACE_ENV))


def choose_storage(environ=None, persistent: Path = PERSISTENT, local: Path = LOCAL) -> Storage:
    """The ratings folder: ``$COLORLAB_DATA``, else ``persistent`` (``/data``) if writable,
    else ``local``. ``environ`` and both paths are injectable for tests."""
    env = os.environ if environ is None else environ
    if env.get(DATA_ENV):
        return Storage(Path(env[DATA_ENV]), True, f"${DATA_ENV}")
    if writable(persistent):
        return Storage(persistent, True, f"{persistent} is writable (persistent storage)")
    return Storage(local, False, f"{persistent} is missing or read-only")


__all__ = ["DATA_ENV", "PERSISTENT", "Storage", "choose_storage", "on_space", "writable"]
