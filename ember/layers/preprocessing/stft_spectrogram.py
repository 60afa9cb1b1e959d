"""``STFTSpectrogram``: the short-time Fourier transform of signals as a layer (as Keras's)."""

from __future__ import annotations

import math
import warnings

from ... import initializers, ops
from ...backend.config import epsilon
from ..layer import Layer

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """The STFT of each channel, computed as Keras does: a strided 1-D convolution with windowed DFT kernels.

    The kernels (``real_kernel``, ``imag_kernel``, shape ``(frame_length, 1, fft_length // 2 + 1)``)
    are weights initialised by ``initializers.STFT`` (trainable, as in Keras).

    Args:
        mode: "log" (log magnitude, default), "magnitude", "psd" (power, one-sided doubled),
            "real", "imag", "angle" or "stft" (real and imaginary parts stacked on the frequency axis).
        frame_length: samples per frame (default 256).
        frame_step: hop between frames (default ``frame_length // 2``).
        fft_length: FFT size (default the next power of two >= ``frame_length``).
        window: a window name scipy knows ("hann", "hamming", ...) or None.
        periodic: periodic (True) or symmetric window.
        scaling: "density", "spectrum" or None.
        padding: "valid" or "same".
        expand_dims: keep channels apart on their own axis.

    Shapes (channels_last): ``(B, T, C)`` -> ``(B, frames, C * F)`` or with ``expand_dims``
    ``(B, frames, F, C)``; channels_first: ``(B, C, T)`` -> ``(B, C * F, frames)`` / ``(B, C, frames, F)``.
    ``F = fft_length // 2 + 1`` (twice that for "stft").
    """

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}", stacklevel=2
            )
        if mode not in _MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_MODES)}. Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"STFTSpectrogram: data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
            )
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = data_format

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            init = initializers.STFT("real", self.window, self.scaling, self.periodic)
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=init)
        if self.mode != "real":
            init = initializers.STFT("imag", self.window, self.scaling, self.periodic)
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=init)
        self.built = True

    def _conv(self, inputs, kernel):
        """``(B, C, F, frames)``: each channel convolved with ``kernel`` on its own."""
        if self.data_format == "channels_last":
            _, steps, channels = inputs.shape
            signal = ops.reshape(ops.transpose(inputs, (0, 2, 1)), (-1, steps, 1))
        else:
            _, channels, steps = inputs.shape
            signal = ops.reshape(inputs, (-1, 1, steps))
        out = ops.conv(
            signal,
            ops.cast(kernel, inputs.dtype),
            strides=self._frame_step,
            padding=self.padding,
            data_format=self.data_format,
        )
        if self.data_format == "channels_last":
            out = ops.transpose(out, (0, 2, 1))
        return ops.reshape(out, (-1, channels, out.shape[1], out.shape[2]))

    def _arrange(self, out):
        _, channels, freqs, frames = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(out, (0, 3, 2, 1))
            return ops.transpose(ops.reshape(out, (-1, channels * freqs, frames)), (0, 2, 1))
        if self.expand_dims:
            return ops.transpose(out, (0, 1, 3, 2))
        return ops.reshape(out, (-1, channels * freqs, frames))

    def call(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(
                f"STFTSpectrogram '{self.name}': expected signals of rank 3 ((batch, time, channels) for "
                f"channels_last), got shape {tuple(inputs.shape)}"
            )
        if str(inputs.dtype) not in ("float16", "float32", "float64"):
            raise TypeError(
                f"Invalid input type. Expected `float16`, `float32` or `float64`. Received: input type={inputs.dtype}"
            )
        real = self._conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._arrange(real)
        if self.mode == "imag":
            return self._arrange(imag)
        if self.mode == "angle":
            return self._arrange(ops.arctan2(imag, real))
        if self.mode == "stft":
            return self._arrange(ops.concatenate([real, imag], axis=2))
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":
            return self._arrange(power + ops.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]]))
        magnitude = self._arrange(ops.sqrt(ops.maximum(power, epsilon())))
        if self.mode == "magnitude":
            return magnitude
        return ops.log(ops.maximum(magnitude, epsilon()))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "mode": self.mode,
            "frame_length": self.frame_length,
            "frame_step": self.frame_step,
            "fft_length": self.fft_length,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
            "padding": self.padding,
            "data_format": self.data_format,
            "expand_dims": self.expand_dims,
        }
