"""``MelSpectrogram``: audio to a (log-)mel spectrogram (Keras's ``keras.layers.MelSpectrogram``)."""

from __future__ import annotations

import numpy

from ... import ops
from ..layer import Layer

# the HTK mel scale: mel(f) = 1127 * ln(1 + f / 700)
_BREAK_HZ = 700.0
_HIGH_Q = 1127.0


def _hertz_to_mel(hz):
    return _HIGH_Q * numpy.log(1.0 + hz / _BREAK_HZ)


def linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz, upper_edge_hertz):
    """``(num_spectrogram_bins, num_mel_bins)`` float32 triangular filters (peak 1) on the HTK mel scale.

    Spectrogram bins are linear in ``[0, sampling_rate / 2]``; the DC bin gets no weight.
    """
    f32 = numpy.float32
    freqs = numpy.linspace(f32(0.0), f32(sampling_rate) / f32(2.0), num_spectrogram_bins, dtype="float32")[1:]
    bins_mel = _hertz_to_mel(freqs)[:, None]
    edges = numpy.linspace(
        _hertz_to_mel(f32(lower_edge_hertz)), _hertz_to_mel(f32(upper_edge_hertz)), num_mel_bins + 2, dtype="float32"
    )
    lower, center, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = numpy.maximum(f32(0.0), numpy.minimum(rising, falling)).astype("float32")
    return numpy.pad(weights, [[1, 0], [0, 0]])


class MelSpectrogram(Layer):
    """A mel spectrogram of each signal, in decibels by default, as Keras computes it.

    ``|STFT|^mag_exp`` (centered frames of ``sequence_length`` with ``window``, hop
    ``sequence_stride``, FFT size ``fft_length``) times HTK mel filters between ``min_freq`` and
    ``max_freq``; with ``power_to_db``: ``10 log10(max(x, min_power)) - 10 log10(max(|ref_power|,
    min_power))``, floored at the maximum over the whole batch minus ``top_db`` (Keras's rule).

    Args:
        fft_length, sequence_stride, sequence_length, window: the STFT's (defaults 2048, 512,
            ``fft_length``, "hann").
        sampling_rate: the signal's samples per second (default 16000).
        num_mel_bins: mel bands (default 128).
        min_freq, max_freq: the filters' range in Hz (default 20 and ``sampling_rate / 2``).
        power_to_db, top_db, mag_exp, min_power, ref_power: as above (defaults True, 80, 2, 1e-10, 1).

    Shapes: ``(T,)`` -> ``(num_mel_bins, frames)``; ``(B, T)`` -> ``(B, num_mel_bins, frames)``;
    ``frames = 1 + T // sequence_stride``.
    """

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def call(self, inputs):
        dtype = self.dtype if str(self.dtype) in ("float32", "float64") else "float32"
        x = ops.cast(ops.convert_to_tensor(inputs), dtype)
        if x.ndim not in (1, 2):
            raise ValueError(
                f"MelSpectrogram '{self.name}': expected signals of shape (T,) or (batch, T), got {tuple(x.shape)}"
            )
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length, window=self.window)
        spec = ops.power(ops.sqrt(ops.square(real) + ops.square(imag)), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq, self.max_freq
        )
        out = ops.tensordot(spec, ops.cast(ops.convert_to_tensor(matrix), dtype), axes=1)
        if self.power_to_db:
            out = 10.0 * ops.log10(ops.maximum(out, self.min_power))
            out = out - 10.0 * numpy.log10(max(abs(self.ref_power), self.min_power))
            out = ops.maximum(out, ops.max(out) - self.top_db)
        return ops.cast(ops.swapaxes(out, -1, -2), self.dtype)

    def compute_output_shape(self, input_shape):
        steps = input_shape[-1]
        frames = None if steps is None else (steps + self.sequence_stride + 1) // self.sequence_stride
        if len(input_shape) == 1:
            return (self.num_mel_bins, frames)
        return (input_shape[0], self.num_mel_bins, frames)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "fft_length": self.fft_length,
            "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length,
            "window": self.window,
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq,
            "max_freq": self.max_freq,
            "power_to_db": self.power_to_db,
            "top_db": self.top_db,
            "mag_exp": self.mag_exp,
            "min_power": self.min_power,
            "ref_power": self.ref_power,
        }
