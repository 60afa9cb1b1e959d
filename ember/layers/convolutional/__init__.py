"""Convolution layers: Conv1D/2D/3D, their transposes, depthwise and separable convolutions (and Keras's aliases)."""

from .base_conv import BaseConv
from .conv1d import Conv1D, Convolution1D
from .conv2d import Conv2D, Convolution2D
from .conv2d_transpose import Conv2DTranspose, Convolution2DTranspose
from .conv3d import Conv3D, Convolution3D
from .conv_transpose_nd import Conv1DTranspose, Conv3DTranspose
from .depthwise_conv1d import DepthwiseConv1D, SeparableConv1D, SeparableConvolution1D
from .depthwise_conv2d import DepthwiseConv2D
from .separable_conv2d import SeparableConv2D, SeparableConvolution2D

Convolution1DTranspose = Conv1DTranspose
Convolution3DTranspose = Conv3DTranspose

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Convolution1DTranspose",
    "Convolution3D",
    "Convolution3DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution1D",
    "Convolution2D",
    "Convolution2DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConvolution1D",
    "SeparableConv2D",
    "SeparableConvolution2D",
]
