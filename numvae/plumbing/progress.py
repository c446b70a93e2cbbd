"""The progress bar numvae's loops use: tqdm's notebook widget when it can be drawn, else text.

``tqdm.auto`` picks the notebook widget whenever it runs in a Jupyter kernel, and when
ipywidgets is not installed it warns ("IProgress not found") and falls back to text. Here
the choice is made once, up front: the widget when ipywidgets is importable, the plain text
bar otherwise, so a kernel without ipywidgets gets the text bar and no warning.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm.std import tqdm

__all__ = ["tqdm"]
