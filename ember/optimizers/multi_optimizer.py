"""``MultiOptimizer`` and ``OptimizerMap``: a different optimizer for different variables."""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from .base import Optimizer
from .loss_scale_optimizer import LossScaleOptimizer


class OptimizerMap(MutableMapping):
    """Which optimizer updates which variable, as ``keras.optimizers.OptimizerMap``.

    Keys are variable paths (``"dense/kernel"``) or regular expressions matched
    in full against them; a variable no key matches goes to ``default_optimizer``.
    ``optimizer_map(variable)`` returns its optimizer.

    Args:
        default_optimizer: the optimizer of the unmatched variables.
        optimizer_map: a dict from path or pattern to optimizer.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value {self._optimizer_map[key]}. Please make sure "
                "to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"optimizer cannot be {type(optimizer).__name__}.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[str(getattr(variable, "path", None) or getattr(variable, "name", ""))]

    def get_config(self) -> dict:
        from .serialization import serialize

        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .serialization import deserialize

        default = deserialize(config["default_optimizer"], custom_objects=custom_objects)
        mapping = {
            k: deserialize(v, custom_objects=custom_objects) for k, v in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Route each variable's update to its own optimizer, as ``keras.optimizers.MultiOptimizer``.

    Args:
        optimizer_map: an :class:`OptimizerMap`, or any callable ``variable -> optimizer``.
        loss_scale_factor: passed on to every inner optimizer.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        self._inner_optimizers = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for opt in [*candidates, default]:
            if opt is not None and all(opt is not o for o in self._inner_optimizers):
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        self._var_to_optimizer_idx = {}
        for var in var_list:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {var} is not an Optimizer instance.")
            if isinstance(opt, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(f"{type(opt).__name__} cannot be used inside an MultiOptimizer.")
            if all(opt is not o for o in self._inner_optimizers):
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
            self._var_to_optimizer_idx[id(var)] = next(i for i, o in enumerate(self._inner_optimizers) if o is opt)
        for i, opt in enumerate(self._inner_optimizers):
            own = [v for v in var_list if self._var_to_optimizer_idx[id(v)] == i]
            if own:
                opt.build(own)
        super().build(var_list)

    @property
    def optimizers(self) -> list:
        return self._inner_optimizers

    @property
    def variables(self) -> list:
        out = self._variables[:]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the individual "
            "sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the individual "
            "sub-optimizers instead."
        )

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", []):
            opt.loss_scale_factor = value

    def apply(self, grads, trainable_variables=None) -> None:
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list of "
                    "variables. Call `optimizer.build(trainable_variables)` first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._var_to_optimizer_idx):
            raise ValueError(
                f"Gradients must match trainable variables one-to-one. Received {len(grads)} gradients and "
                f"{len(self._var_to_optimizer_idx)} variables."
            )
        groups = [([], []) for _ in self._inner_optimizers]
        for grad, var in zip(grads, trainable_variables):
            g, v = groups[self._var_to_optimizer_idx[id(var)]]
            g.append(grad)
            v.append(var)
        for opt, (g, v) in zip(self._inner_optimizers, groups):
            if v:
                opt.apply(g, v)
        self._iterations.data += 1

    def finalize_variable_values(self, var_list) -> None:
        for i, opt in enumerate(self._inner_optimizers):
            own = [v for v in var_list if self._var_to_optimizer_idx.get(id(v)) == i]
            if own:
                opt.finalize_variable_values(own)

    def get_config(self) -> dict:
        mapping = self._optimizer_map
        serialized = (
            {
                "module": "keras.optimizers",
                "class_name": "OptimizerMap",
                "config": mapping.get_config(),
                "registered_name": None,
            }
            if isinstance(mapping, OptimizerMap)
            else mapping
        )
        return {"optimizer_map": serialized, "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        mapping = config["optimizer_map"]
        if isinstance(mapping, dict) and mapping.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(mapping["config"], custom_objects=custom_objects)
        return cls(**config)
