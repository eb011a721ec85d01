"""What every figure shares: colours, style, a figure of fixed size, saving it atomically.

Figures have a fixed size in inches (no tight bounding box), so a figure of ``w x h`` inches
is exactly ``150 w x 150 h`` pixels.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bayesprune.io import atomic_path  # noqa: E402
from bayesprune.labels import task_of  # noqa: E402

DPI = 150
PNG_COLORS = 64  # palette size of saved figures (see save_figure)
STAGE_COLORS = {"full": "#333333", "pruned": "#dd8452", "resampled": "#4c72b0"}
UNPRUNED_COLOR = "#8c8c8c"
RF_COLOR = "#55a868"
CRITERION_COLORS = {"stn": "#4c72b0", "spn": "#dd8452", "rnd": "#8c8c8c", "mag": "#55a868"}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Seaborn's white grid at a font size readable at 150 dpi, for this block only."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.8):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width x height`` inches at :data:`DPI`, constrained layout."""
    return plt.figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = DPI) -> None:
    """Write ``fig`` as a PNG atomically (temporary file beside ``path``, then rename); close it.

    The image is stored with a palette of :data:`PNG_COLORS` colours (median cut, no
    dithering): line plots use a handful of colours plus their anti-aliasing, so it looks
    the same and is about 3x smaller than 24-bit RGB (the default config's 65 figures: 4.6 MB
    in all), which keeps the HTML report small. Size and resolution (``dpi``) are
    unchanged.
    """
    from PIL import Image

    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        buffer.seek(0)
        with Image.open(buffer) as image:
            paletted = image.convert("RGB").quantize(
                colors=PNG_COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
        with atomic_path(path) as tmp:
            paletted.save(tmp, format="PNG", optimize=True, dpi=(dpi, dpi))
    finally:
        plt.close(fig)


def error_values(frame: pd.DataFrame, estimate: str = "point") -> tuple[pd.Series, str]:
    """Test error of each row and its axis label: RMSE, or error rate in % (100 - accuracy)."""
    if task_of(frame) == "regression":
        return frame[f"{estimate}_rmse_test"].astype(float), "test RMSE (modelled target scale)"
    return 100.0 * (1.0 - frame[f"{estimate}_acc_test"].astype(float)), "test error rate (%)"


def empty_panel(ax: plt.Axes, text: str) -> None:
    """A panel without data: ``text`` in its middle, no ticks."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
