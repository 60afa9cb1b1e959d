"""``Dense``: ``activation(inputs @ kernel + bias)`` on the last axis."""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...ops import matmul
from ...ops.dense import matmul_bias_act
from ..input_spec import InputSpec
from ..layer import Layer
from ..legacy import rename_legacy_kwargs


class Dense(Layer):
    """A fully connected layer.

    Shapes: inputs (batch, ..., input_dim) -> outputs (batch, ..., units).
    Weights (Keras's order): kernel (input_dim, units), bias (units,).

    Args:
        units: the size of the output's last axis (Keras 2: ``output_dim``).
        activation: a name, a callable or None (linear).
        use_bias: whether to add a bias.
        kernel_initializer / bias_initializer (Keras 2: ``init``), kernel/bias
        regularizer, activity_regularizer, kernel/bias constraint: as Keras.
    """

    def __init__(
        self,
        units=None,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if lora_rank or quantization_config is not None:
            raise NotImplementedError(
                f"Dense: LoRA and quantization are not supported by Ember yet "
                f"(got lora_rank={lora_rank}, quantization_config={quantization_config})"
            )
        kwargs = rename_legacy_kwargs("Dense", kwargs, ("units", "kernel_initializer"))
        if "units" in kwargs:
            if units is not None:
                raise TypeError("Dense: got both `units` and the Keras 2 `output_dim`; pass only `units`")
            units = kwargs.pop("units")
        kernel_initializer = kwargs.pop("kernel_initializer", kernel_initializer)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Dense '{self.name}': the last axis of the input must be known, got shape {input_shape}")
        self.kernel = self.add_weight(
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        if self.bias is not None:  # product, bias (and a plain ReLU) as one op: one pass over the output each way
            relu = self.activation is activations.relu
            x = matmul_bias_act(inputs, self.kernel, self.bias, relu=relu)
            return x if relu or self.activation is activations.linear else self.activation(x)
        x = matmul(inputs, self.kernel)
        return self.activation(x) if self.activation is not None else x

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
