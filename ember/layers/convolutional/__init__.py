"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D (and Keras's aliases)."""

from .base_conv import BaseConv
from .conv1d import Conv1D, Convolution1D
from .conv2d import Conv2D, Convolution2D
from .conv2d_transpose import Conv2DTranspose, Convolution2DTranspose
from .depthwise_conv2d import DepthwiseConv2D
from .separable_conv2d import SeparableConv2D, SeparableConvolution2D

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution1D",
    "Convolution2D",
    "Convolution2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "SeparableConvolution2D",
]
