"""Keras preprocessing layers: text and category lookups, normalization, rescaling, image augmentation.

Layers reading strings (``TextVectorization``, ``StringLookup``) take Python/NumPy
strings (Ember tensors are numeric) and return Ember tensors.
"""

from .auto_contrast import AutoContrast
from .category_encoding import CategoryEncoding
from .center_crop import CenterCrop
from .cut_mix import CutMix
from .discretization import Discretization
from .equalization import Equalization
from .integer_lookup import IntegerLookup
from .max_num_bounding_boxes import MaxNumBoundingBoxes
from .mel_spectrogram import MelSpectrogram
from .mix_up import MixUp
from .normalization import Normalization
from .pipeline import Pipeline
from .random_color import (
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    Solarization,
)
from .random_color_jitter import RandomColorJitter
from .random_crop import RandomCrop
from .random_erasing import RandomErasing
from .random_flip import RandomFlip
from .random_gaussian_blur import RandomGaussianBlur
from .random_rotation import RandomRotation
from .random_sharpness import RandomSharpness
from .random_shear import RandomShear
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .rescaling import Rescaling
from .resizing import Resizing
from .stft_spectrogram import STFTSpectrogram
from .string_lookup import StringLookup
from .text_vectorization import TextVectorization

__all__ = [
    "RandomHue",
    "RandomSaturation",
    "RandomColorDegeneration",
    "RandomPosterization",
    "Pipeline",
    "AutoContrast",
    "RandomBrightness",
    "RandomContrast",
    "RandomGrayscale",
    "RandomInvert",
    "Solarization",
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "IntegerLookup",
    "Normalization",
    "RandomCrop",
    "MelSpectrogram",
    "STFTSpectrogram",
    "MaxNumBoundingBoxes",
    "Equalization",
    "MixUp",
    "CutMix",
    "RandomColorJitter",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomSharpness",
    "RandomShear",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "StringLookup",
    "TextVectorization",
]
