"""``STFT``: the initializer that makes a 1-D convolution kernel compute a short-time Fourier transform.

The kernel has shape ``(frame_length, 1, bins)``; column k of the 'real' side
is ``cos(2 pi k t / n)`` and of the 'imag' side ``-sin(2 pi k t / n)``, with
``n = 2 * (bins - 1)``, each multiplied by the window and divided by the
window's scale ('density': the root of its summed squares, 'spectrum': its sum).
"""

from __future__ import annotations

import numpy

from ..backend.config import floatx
from ..engine.tensor import tensor
from .base import Initializer, register

__all__ = ["STFT"]


def _window(name, length, periodic):
    """A named window of ``length`` points (periodic: for spectral analysis, as SciPy's ``fftbins=True``)."""
    n = length + 1 if periodic and length > 1 else length
    k = numpy.arange(n)
    simple = {
        "hann": lambda: 0.5 - 0.5 * numpy.cos(2 * numpy.pi * k / (n - 1)),
        "hamming": lambda: 0.54 - 0.46 * numpy.cos(2 * numpy.pi * k / (n - 1)),
        "blackman": lambda: (
            0.42 - 0.5 * numpy.cos(2 * numpy.pi * k / (n - 1)) + 0.08 * numpy.cos(4 * numpy.pi * k / (n - 1))
        ),
        "boxcar": lambda: numpy.ones(n),
    }
    if name in simple:
        win = simple[name]() if n > 1 else numpy.ones(n)
        return win[:length]
    try:
        import scipy.signal
    except ImportError:
        raise ValueError(f"STFT: window {name!r} needs SciPy; without it use one of {sorted(simple)}") from None
    return scipy.signal.get_window(name, length, fftbins=periodic)


@register("stft", "STFTInitializer")
class STFT(Initializer):
    """Fourier-basis kernels for a ``Conv1D`` that computes an STFT (``keras.initializers.STFT``).

    Args:
        side: 'real' (cosines) or 'imag' (minus sines).
        window: a window name ('hann', 'hamming', ...), an array of ``frame_length`` values, or None.
        scaling: 'density', 'spectrum' or None (how the window is normalised).
        periodic: use the periodic form of a named window (as for spectral analysis).
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side must be 'real' or 'imag', got {side!r}")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(f"STFT: scaling must be None, 'density' or 'spectrum', got {scaling!r}")
        if isinstance(window, str):
            _window(window, 4, periodic)  # refuse an unknown name now, not at the first call
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        if len(shape) != 3:
            raise ValueError(f"STFT: expected a kernel shape (frame_length, channels, bins), got {tuple(shape)}")
        frame_length, _, bins = (int(n) for n in shape)
        dt = numpy.dtype(str(dtype) if dtype is not None else floatx())
        n = (bins - 1) * 2
        t = numpy.arange(frame_length, dtype=numpy.float64).reshape(frame_length, 1, 1)
        freq = numpy.arange(bins, dtype=numpy.float64).reshape(1, 1, bins) / n
        angle = -2.0 * numpy.pi * t * freq
        kernel = numpy.cos(angle) if self.side == "real" else numpy.sin(angle)
        if self.window is not None:
            if isinstance(self.window, str):
                win = _window(self.window, frame_length, self.periodic)
            else:
                win = numpy.asarray(self.window, dtype=numpy.float64)
            if win.shape != (frame_length,):
                raise ValueError(f"STFT: the window must have shape ({frame_length},), got {win.shape}")
            scale = 1.0
            if self.scaling == "density":
                scale = numpy.sqrt(numpy.sum(win**2))
            elif self.scaling == "spectrum":
                scale = numpy.sum(numpy.abs(win))
            kernel = kernel * win.reshape(frame_length, 1, 1) / scale
        return tensor(numpy.broadcast_to(kernel, (frame_length, shape[1], bins)).astype(dt))

    def get_config(self):
        window = self.window if self.window is None or isinstance(self.window, str) else list(self.window)
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}
