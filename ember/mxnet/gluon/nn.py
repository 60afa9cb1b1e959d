# ruff: noqa: N802, N803, N812, A002  (MXNet's own names: F, T, N, ord)
"""``gluon.nn``: MXNet's layers in MXNet's layouts (Dense weights (units, in_units); convolutions in NCHW with
kernels (channels, in_channels, kh, kw)), computed with Ember's ops (``ember.matmul``, ``ember.conv2d``, ...).

Input sizes left at 0 (``in_units``, ``in_channels``) are filled in by the first forward pass.
"""

from __future__ import annotations

import numpy as np

import ember
from ember.engine.variable import state_update

from .. import autograd
from .. import nd as F
from ..ndarray import _nd
from .block import Block, HybridBlock
from .nchw_ops import convolution, convolution_transpose, instance_norm, pooling, prelu


def _pair(v, n):
    return (int(v),) * n if np.isscalar(v) else tuple(int(x) for x in v)


_ACTIVATIONS = {
    "relu": ember.relu,
    "sigmoid": ember.sigmoid,
    "tanh": ember.tanh,
    "softrelu": ember.softplus,
    "softsign": ember.softsign,
}


def _activation(name):
    if name is None:
        return None
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {name!r}")
    return _ACTIVATIONS[name]


class Sequential(Block):
    """Blocks run one after another; ``add(*blocks)``, indexing and ``len``."""

    def add(self, *blocks):
        for block in blocks:
            self.register_child(block)

    def forward(self, x, *args):
        for block in self._children.values():
            x = block(x, *args)
            args = ()
        return x

    def __getitem__(self, key):
        children = list(self._children.values())
        if isinstance(key, slice):
            net = type(self)(prefix=self._prefix)
            net.add(*children[key])
            return net
        return children[key]

    def __len__(self):
        return len(self._children)


class HybridSequential(Sequential, HybridBlock):
    """Sequential whose ``hybridize()`` is accepted (runs eagerly)."""

    forward = Sequential.forward


class Dense(HybridBlock):
    """``activation(x @ weight.T + bias)``; weight (units, in_units). ``flatten=True`` (MXNet's default) turns
    (n, d1, d2, ...) into (n, d1*d2*...) first; ``flatten=False`` applies to the last axis."""

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        flatten=True,
        dtype="float32",
        weight_initializer=None,
        bias_initializer="zeros",
        in_units=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._units, self._flatten, self._act_name = int(units), flatten, activation
        self._act = _activation(activation)
        with self.name_scope():
            self.weight = self.params.get(
                "weight", shape=(units, in_units), init=weight_initializer, dtype=dtype, allow_deferred_init=True
            )
            self.bias = (
                self.params.get("bias", shape=(units,), init=bias_initializer, dtype=dtype) if use_bias else None
            )

    def forward(self, x):
        x = x if isinstance(x, ember.Tensor) else F.array(x)
        if self._flatten and x.ndim != 2:
            x = ember.reshape(x, (x.shape[0], -1))
        if self.weight.shape[1] == 0:
            self.weight.shape = (self._units, x.shape[-1])
        self.weight._finish_deferred_init()
        out = ember.matmul(x, ember.transpose(self.weight.data()))
        if self.bias is not None:
            out = out + self.bias.data()
        if self._act is not None:
            out = self._act(out)
        return _nd(out)

    def __repr__(self):
        shape = self.weight.shape
        return f"Dense({shape[1] or None} -> {shape[0]}, {'linear' if self._act_name is None else self._act_name})"


class Activation(HybridBlock):
    """An activation by MXNet's name: relu, sigmoid, tanh, softrelu, softsign."""

    def __init__(self, activation, **kwargs):
        self._act_type = activation
        super().__init__(**kwargs)
        self._act = _activation(activation)

    def _alias(self):
        return self._act_type

    def forward(self, x):
        return _nd(self._act(x))


class LeakyReLU(HybridBlock):
    def __init__(self, alpha, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def forward(self, x):
        return _nd(ember.leaky_relu(x, self._alpha))


class Dropout(HybridBlock):
    """Inverted dropout, active only in training mode (inside ``autograd.record()``)."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate, self._axes = rate, tuple(axes)

    def forward(self, x):
        if not autograd.is_training() or self._rate == 0:
            return x
        noise = tuple(1 if i in self._axes else s for i, s in enumerate(x.shape)) if self._axes else None
        return _nd(ember.dropout(x, self._rate, training=True, noise_shape=noise))


class Flatten(HybridBlock):
    """(n, ...) -> (n, prod(...))."""

    def forward(self, x):
        return _nd(ember.reshape(x, (x.shape[0], -1)))


class Lambda(Block):
    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        self._fn = getattr(F, function) if isinstance(function, str) else function

    def forward(self, *args):
        return self._fn(*args)


HybridLambda = Lambda


class BatchNorm(HybridBlock):
    """Batch normalization over ``axis`` (1: NCHW channels). Training mode normalises with the batch's mean and
    biased variance and updates ``running = momentum * running + (1 - momentum) * batch``."""

    def __init__(
        self,
        axis=1,
        momentum=0.9,
        epsilon=1e-5,
        center=True,
        scale=True,
        use_global_stats=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        running_mean_initializer="zeros",
        running_variance_initializer="ones",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._axis, self._momentum, self._eps = axis, momentum, epsilon
        self._global = use_global_stats
        with self.name_scope():
            self.gamma = self.params.get(
                "gamma",
                grad_req="write" if scale else "null",
                shape=(in_channels,),
                init=gamma_initializer,
                allow_deferred_init=True,
            )
            self.beta = self.params.get(
                "beta",
                grad_req="write" if center else "null",
                shape=(in_channels,),
                init=beta_initializer,
                allow_deferred_init=True,
            )
            self.running_mean = self.params.get(
                "running_mean",
                grad_req="null",
                shape=(in_channels,),
                init=running_mean_initializer,
                allow_deferred_init=True,
            )
            self.running_var = self.params.get(
                "running_var",
                grad_req="null",
                shape=(in_channels,),
                init=running_variance_initializer,
                allow_deferred_init=True,
            )

    def forward(self, x):
        c = x.shape[self._axis]
        for p in (self.gamma, self.beta, self.running_mean, self.running_var):
            if p.shape[0] == 0:
                p.shape = (c,)
            p._finish_deferred_init()
        gamma, beta = self.gamma.data(), self.beta.data()
        if autograd.is_training() and not self._global:
            y, mean, var = ember.batch_norm_train(x, gamma, beta, axis=self._axis, epsilon=self._eps)
            # a declared state write: a hybridized (replayed) call repeats it with each call's statistics
            state_update(self._update_running, mean, var)
            return _nd(y)
        y = ember.batch_norm(
            x,
            self.running_mean.data(),
            self.running_var.data(),
            beta,
            gamma,
            epsilon=self._eps,
            axis=self._axis,
        )
        return _nd(y)

    def _update_running(self, mean, var):
        """running = momentum * running + (1 - momentum) * batch, in place (MXNet's rule)."""
        m = self._momentum
        for running, batch in ((self.running_mean, mean), (self.running_var, var)):
            arr = running.data().data
            arr[...] = m * arr + (1 - m) * batch.data


class Embedding(HybridBlock):
    """Rows of ``weight`` (input_dim, output_dim) at integer-valued indices (float indices are truncated)."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer, dtype=dtype)

    def forward(self, x):
        # the cast is an op, so a hybridized call's plan takes each call's indices
        idx = ember.cast(x if isinstance(x, ember.Tensor) else ember.tensor(np.asarray(x)), "int64")
        out = ember.take(self.weight.data(), idx, axis=0)
        return _nd(out)


class _Conv(HybridBlock):
    """N-d convolution in MXNet's channels-first layout on Ember's channels-last conv op."""

    _nd_dims = 2

    def __init__(
        self,
        channels,
        kernel_size,
        strides=1,
        padding=0,
        dilation=1,
        groups=1,
        layout=None,
        activation=None,
        use_bias=True,
        weight_initializer=None,
        bias_initializer="zeros",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        n = self._nd_dims
        if int(groups) < 1 or int(channels) % int(groups):
            raise ValueError(f"{type(self).__name__}: channels={channels} must be a multiple of groups={groups}")
        self._groups = int(groups)
        if layout not in (None, "NCW", "NCHW"):
            raise NotImplementedError(f"{type(self).__name__}: layout {layout!r}; only channels-first is supported")
        self._channels = int(channels)
        self._kernel, self._strides = _pair(kernel_size, n), _pair(strides, n)
        self._padding, self._dilation = _pair(padding, n), _pair(dilation, n)
        self._act = _activation(activation)
        with self.name_scope():
            self.weight = self.params.get(
                "weight",
                shape=(channels, in_channels // int(groups)) + self._kernel,
                init=weight_initializer,
                allow_deferred_init=True,
            )
            self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer) if use_bias else None

    def _alias(self):
        return "conv"

    def forward(self, x):
        if self.weight.shape[1] == 0:
            if x.shape[1] % self._groups:
                raise ValueError(
                    f"{type(self).__name__}: input channels {x.shape[1]} are not divisible by groups={self._groups}"
                )
            self.weight.shape = (self._channels, x.shape[1] // self._groups) + self._kernel
        self.weight._finish_deferred_init()
        bias = self.bias.data() if self.bias is not None else None
        out = convolution(
            x, self.weight.data(), bias, self._strides, self._padding, self._dilation, self._groups, self.name
        )
        if self._act is not None:
            out = self._act(out)
        return _nd(out)


class Conv1D(_Conv):
    """1-D convolution, input (N, C, W); weight (channels, in_channels, k)."""

    _nd_dims = 1


class Conv2D(_Conv):
    """2-D convolution, input (N, C, H, W); weight (channels, in_channels, kh, kw)."""

    _nd_dims = 2


class _Pool(HybridBlock):
    _nd_dims = 2
    _kind = "max"

    def __init__(
        self, pool_size=2, strides=None, padding=0, ceil_mode=False, layout=None, count_include_pad=True, **kwargs
    ):
        super().__init__(**kwargs)
        n = self._nd_dims
        self._ceil_mode = bool(ceil_mode)
        self._size = _pair(pool_size, n)
        self._strides = self._size if strides is None else _pair(strides, n)
        self._padding = _pair(padding, n)
        self._count_include_pad = count_include_pad

    def _alias(self):
        return "pool"

    def forward(self, x):
        kind = "max" if self._kind == "max" else "avg"
        return _nd(pooling(x, kind, self._size, self._strides, self._padding, self._ceil_mode, self._count_include_pad))


class MaxPool1D(_Pool):
    _nd_dims, _kind = 1, "max"


class MaxPool2D(_Pool):
    _nd_dims, _kind = 2, "max"


class AvgPool1D(_Pool):
    _nd_dims, _kind = 1, "avg"


class AvgPool2D(_Pool):
    _nd_dims, _kind = 2, "avg"


class GlobalAvgPool2D(HybridBlock):
    """(N, C, H, W) -> (N, C, 1, 1), the mean over H and W."""

    def _alias(self):
        return "pool"

    def forward(self, x):
        return _nd(ember.mean(x, axis=(2, 3), keepdims=True))


class GlobalMaxPool2D(GlobalAvgPool2D):
    def forward(self, x):
        return _nd(ember.max(x, axis=(2, 3), keepdims=True))


class GlobalAvgPool1D(HybridBlock):
    """(N, C, W) -> (N, C, 1), the mean over W."""

    def _alias(self):
        return "pool"

    def forward(self, x):
        return _nd(ember.mean(x, axis=2, keepdims=True))


class GlobalMaxPool1D(GlobalAvgPool1D):
    def forward(self, x):
        return _nd(ember.max(x, axis=2, keepdims=True))


class _ConvTranspose(HybridBlock):
    """Transposed convolution in MXNet's layout: weight (in_channels, channels, *kernel); output size
    ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1`` per axis."""

    _nd_dims = 2

    def __init__(
        self,
        channels,
        kernel_size,
        strides=1,
        padding=0,
        output_padding=0,
        dilation=1,
        groups=1,
        layout=None,
        activation=None,
        use_bias=True,
        weight_initializer=None,
        bias_initializer="zeros",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        n = self._nd_dims
        if int(groups) != 1:
            raise NotImplementedError(f"{type(self).__name__}: groups={groups} is not supported (only 1)")
        if layout not in (None, "NCW", "NCHW"):
            raise NotImplementedError(f"{type(self).__name__}: layout {layout!r}; only channels-first is supported")
        self._channels = int(channels)
        self._kernel, self._strides = _pair(kernel_size, n), _pair(strides, n)
        self._padding, self._out_padding = _pair(padding, n), _pair(output_padding, n)
        self._dilation = _pair(dilation, n)
        self._act = _activation(activation)
        with self.name_scope():
            self.weight = self.params.get(
                "weight",
                shape=(in_channels, channels) + self._kernel,
                init=weight_initializer,
                allow_deferred_init=True,
            )
            self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer) if use_bias else None

    def _alias(self):
        return "conv"

    def forward(self, x):
        if self.weight.shape[0] == 0:
            self.weight.shape = (x.shape[1], self._channels) + self._kernel
        self.weight._finish_deferred_init()
        bias = self.bias.data() if self.bias is not None else None
        out = convolution_transpose(
            x, self.weight.data(), bias, self._strides, self._padding, self._out_padding, self._dilation
        )
        if self._act is not None:
            out = self._act(out)
        return _nd(out)


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution, input (N, C, W); weight (in_channels, channels, k)."""

    _nd_dims = 1


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution, input (N, C, H, W); weight (in_channels, channels, kh, kw)."""

    _nd_dims = 2


class LayerNorm(HybridBlock):
    """Normalise each example over ``axis`` (default the last): ``(x - mean) / sqrt(var + eps) * gamma + beta``."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-5,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._axis, self._eps = int(axis), float(epsilon)
        with self.name_scope():
            self.gamma = self.params.get(
                "gamma",
                grad_req="write" if scale else "null",
                shape=(in_channels,),
                init=gamma_initializer,
                allow_deferred_init=True,
            )
            self.beta = self.params.get(
                "beta",
                grad_req="write" if center else "null",
                shape=(in_channels,),
                init=beta_initializer,
                allow_deferred_init=True,
            )

    def forward(self, x):
        c = x.shape[self._axis]
        for p in (self.gamma, self.beta):
            if p.shape[0] == 0:
                p.shape = (c,)
            p._finish_deferred_init()
        return _nd(ember.layer_norm(x, self.gamma.data(), self.beta.data(), axis=self._axis, epsilon=self._eps))


class InstanceNorm(HybridBlock):
    """Normalise each example's channel (``axis``, default 1) over the other non-batch axes, then scale and shift
    per channel (MXNet's ``scale=False`` default keeps gamma at its initial ones)."""

    def __init__(
        self,
        axis=1,
        epsilon=1e-5,
        center=True,
        scale=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._axis, self._eps = int(axis), float(epsilon)
        with self.name_scope():
            self.gamma = self.params.get(
                "gamma",
                grad_req="write" if scale else "null",
                shape=(in_channels,),
                init=gamma_initializer,
                allow_deferred_init=True,
            )
            self.beta = self.params.get(
                "beta",
                grad_req="write" if center else "null",
                shape=(in_channels,),
                init=beta_initializer,
                allow_deferred_init=True,
            )

    def forward(self, x):
        axis = self._axis % x.ndim
        c = x.shape[axis]
        for p in (self.gamma, self.beta):
            if p.shape[0] == 0:
                p.shape = (c,)
            p._finish_deferred_init()
        return _nd(instance_norm(x, self.gamma.data(), self.beta.data(), axis, self._eps))


class ELU(HybridBlock):
    """``x`` where x > 0, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = float(alpha)

    def forward(self, x):
        return _nd(ember.elu(x, self._alpha))


class SELU(HybridBlock):
    """Scaled ELU with the self-normalising constants."""

    def forward(self, x):
        return _nd(ember.selu(x))


class GELU(HybridBlock):
    """``x * Phi(x)`` (the erf form, as MXNet's LeakyReLU act_type 'gelu')."""

    def forward(self, x):
        return _nd(ember.gelu(x))


class Swish(HybridBlock):
    """``x * sigmoid(beta * x)``."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = float(beta)

    def forward(self, x):
        if self._beta == 1.0:
            return _nd(ember.silu(x))
        return _nd(x * ember.sigmoid(x * self._beta))


class PReLU(HybridBlock):
    """``x`` where x > 0, else ``alpha * x`` with a learned ``alpha`` per channel (axis 1; ``in_channels=1``: one
    alpha for all), initialised to 0.25 as MXNet."""

    def __init__(self, alpha_initializer=None, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        from .. import initializer

        init = alpha_initializer if alpha_initializer is not None else initializer.Constant(0.25)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=init)

    def forward(self, x):
        return _nd(prelu(x, self.alpha.data()))


class BatchNormReLU(BatchNorm):
    """BatchNorm followed by ReLU (MXNet's fused layer)."""

    def forward(self, x):
        return _nd(ember.relu(super().forward(x)))


class GroupNorm(HybridBlock):
    """Normalise each example over groups of channels (axis 1 cut into ``num_groups``) and the other axes, then
    scale and shift per group (MXNet 1.x's gamma and beta have one value per group)."""

    def __init__(
        self,
        num_groups=1,
        epsilon=1e-5,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._groups, self._eps = int(num_groups), float(epsilon)
        with self.name_scope():
            self.gamma = self.params.get(
                "gamma", grad_req="write" if scale else "null", shape=(num_groups,), init=gamma_initializer
            )
            self.beta = self.params.get(
                "beta", grad_req="write" if center else "null", shape=(num_groups,), init=beta_initializer
            )

    def forward(self, x):
        n, c, g = x.shape[0], x.shape[1], self._groups
        if c % g:
            raise ValueError(f"GroupNorm: {c} channels cannot be cut into num_groups={g} groups")
        grouped = ember.reshape(x, (n, g, -1))
        mean = ember.mean(grouped, axis=2, keepdims=True)
        centered = grouped - mean
        var = ember.mean(centered * centered, axis=2, keepdims=True)
        normed = centered / ember.sqrt(var + self._eps)
        gamma = ember.reshape(self.gamma.data(), (1, g, 1))
        beta = ember.reshape(self.beta.data(), (1, g, 1))
        return _nd(ember.reshape(normed * gamma + beta, x.shape))


class ReflectionPad2D(HybridBlock):
    """Pad H and W of (N, C, H, W) by mirroring (``padding``: an int, or MXNet's 8-tuple for all four axes)."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if np.isscalar(padding):
            padding = (0, 0, 0, 0) + (int(padding),) * 4
        padding = tuple(int(p) for p in padding)
        if len(padding) != 8 or any(padding[:4]):
            raise ValueError(
                f"ReflectionPad2D: padding must be an int or 8 numbers padding H and W only, got {padding}"
            )
        self._padding = padding

    def _alias(self):
        return "reflectionpad2d"

    def forward(self, x):
        p = self._padding
        return _nd(ember.pad(x, ((0, 0), (0, 0), (p[4], p[5]), (p[6], p[7])), mode="reflect"))


def _symbol_block():
    from .symbol_block import SymbolBlock

    return SymbolBlock


def __getattr__(name):
    if name == "SymbolBlock":  # gluon.nn.SymbolBlock, as MXNet (defined beside export, imported late)
        return _symbol_block()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
