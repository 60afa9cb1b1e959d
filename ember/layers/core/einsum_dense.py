"""``EinsumDense``: a dense layer whose product is an einsum equation (Keras's weight shapes)."""

from __future__ import annotations

import re

from ... import activations, constraints, initializers, regularizers
from ...initializers.variance_scaling import VarianceScaling
from ...ops.einsum import einsum
from ..input_spec import InputSpec
from ..layer import Layer


class EinsumDense(Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``.

    Shapes: inputs of the rank the equation's first operand names (the batch
    axis first) -> outputs ``(batch, *output_shape)``; the kernel's shape is
    read off the equation (its letters sized from the input and ``output_shape``).

    Args:
        equation: ``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``
            (inputs, kernel -> outputs).
        output_shape: the output's shape without the batch axis (an int for one
            axis); None for a size read off the input.
        activation: a name, a callable or None.
        bias_axes: the output letters a bias spans (e.g. ``"c"``), or None.
        kernel_initializer / bias_initializer / regularizers / constraints: as Dense.
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        if lora_rank or quantization_config is not None:
            raise NotImplementedError(
                f"EinsumDense: LoRA and quantization are not supported by Ember yet "
                f"(got lora_rank={lora_rank}, quantization_config={quantization_config})"
            )
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = None
        self.lora_alpha = None
        analyze_equation(equation, bias_axes, None, self.partial_output_shape)  # fail early on a bad equation

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_equation(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape
        )
        if any(d is None for d in kernel_shape):
            raise ValueError(
                f"EinsumDense '{self.name}': the kernel shape {tuple(kernel_shape)} has unknown sizes; give them in "
                f"`output_shape` or the input shape (got input shape {tuple(input_shape)})"
            )
        init = self.kernel_initializer
        if isinstance(init, VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            # the fans count the kernel's input and output letters, as Keras does
            init = type(init).from_config({**init.get_config(), "input_axes": input_axes, "output_axes": output_axes})
        self.input_spec = InputSpec(ndim=len(input_shape))
        self._kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=init,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._kernel

    def call(self, inputs, training=None):
        x = einsum(self.equation, inputs, self._kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x) if self.activation is not None else x

    def compute_output_shape(self, input_shape):
        return tuple(analyze_equation(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)[2])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """``(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`` for an EinsumDense equation.

    ``input_shape`` includes the batch axis; None checks only the equation's
    form. ``input_axes``/``output_axes`` are the kernel axes matched in the
    input / the output (the initializer's fans).
    """
    eq = re.sub(r"\.\.\.", "0", equation.replace(" ", ""))
    forms = (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False),
    )
    for pattern, left_elided in forms:
        match = re.match(pattern, eq)
        if match:
            left = left_elided
            break
    else:
        raise ValueError(
            f"Invalid einsum equation '{equation}'. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    in_spec, w_spec, out_spec = match.groups()
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"Dimension '{c}' was specified in the output '{out_spec}' but has no corresponding dim in the "
                f"input spec '{in_spec}' or weight spec '{w_spec}'"
            )
    for c in w_spec:
        if c not in out_spec and c not in in_spec:
            raise ValueError(
                f"Weight dimension '{c}' did not have a match in either the input spec '{in_spec}' or the output "
                f"spec '{out_spec}'. For this layer, the weight must be fully specified."
            )
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec '{out_spec}'")
    if input_shape is None:
        return None
    elided = len(input_shape) - len(in_spec)
    full = [input_shape[0], *output_shape]
    if elided > 0 and left:
        for i in range(1, elided):
            full.insert(1, input_shape[i])
    elif elided > 0:
        full.extend(input_shape[len(input_shape) - elided :])
    if left:
        in_map = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_map = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_map = {c: i for i, c in enumerate(in_spec)}
        out_map = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_map:
            if out_map[c] >= len(full):
                raise ValueError(
                    f"EinsumDense: output_shape {tuple(output_shape)} has too few axes for the equation '{equation}'"
                )
            o = full[out_map[c]]
            if o is not None and o != input_shape[in_map[c]]:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{c}'. Input shape is "
                    f"{input_shape[in_map[c]]}, and output shape is {o}."
                )
            if o is None:
                full[out_map[c]] = input_shape[in_map[c]]
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_map:
            kernel_shape.append(full[out_map[c]])
            output_axes.append(i)
        else:
            kernel_shape.append(input_shape[in_map[c]])
            input_axes.append(i)
    bias_shape = None
    if bias_axes is not None:
        offset = elided if left else 0
        sizes = {c: full[i + offset] for i, c in enumerate(out_spec)}
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if not left:
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, full, input_axes, output_axes
