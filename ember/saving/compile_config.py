"""A model's ``compile()`` arguments as Keras 3's ``compile_config``, and compiling from it."""

from __future__ import annotations

from .serialization import deserialize_keras_object, serialize_keras_object


def compile_config(model):
    """``{"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", ...}`` or None when not compiled."""
    if not getattr(model, "compiled", False):
        return None
    from .. import optimizers

    compiled_loss = getattr(model, "_compiled_loss", None)
    compiled_metrics = getattr(model, "_compiled_metrics", None)
    return {
        "optimizer": optimizers.serialize(model.optimizer) if model.optimizer is not None else None,
        "loss": _serialize_loss(getattr(model, "loss", None)),
        "loss_weights": getattr(compiled_loss, "loss_weights", None),
        "metrics": _serialize_metrics(getattr(compiled_metrics, "spec", None)),
        "weighted_metrics": _serialize_metrics(getattr(compiled_metrics, "weighted_spec", None)),
        "run_eagerly": bool(getattr(model, "run_eagerly", False)),
        "steps_per_execution": int(getattr(model, "steps_per_execution", 1)),
        "jit_compile": False,
        "auto_scale_loss": bool(getattr(model, "auto_scale_loss", True)),
    }


def compile_from_config(model, config, custom_objects=None, safe_mode=True) -> None:
    """Call ``model.compile`` with a ``compile_config`` and build the optimizer on the model's weights."""
    from .. import optimizers

    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        optimizer = optimizers.deserialize(_strip_module(optimizer), custom_objects=custom_objects)
    model.compile(
        optimizer=optimizer if optimizer is not None else "rmsprop",
        loss=_deserialize_loss(config.get("loss"), custom_objects, safe_mode),
        loss_weights=config.get("loss_weights"),
        metrics=_deserialize_metrics(config.get("metrics"), custom_objects, safe_mode),
        weighted_metrics=_deserialize_metrics(config.get("weighted_metrics"), custom_objects, safe_mode),
        steps_per_execution=int(config.get("steps_per_execution", 1) or 1),
        auto_scale_loss=bool(config.get("auto_scale_loss", True)),
    )
    if model.optimizer is not None and model.built and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _serialize_loss(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    if callable(loss) and not hasattr(loss, "get_config"):
        out = serialize_keras_object(loss)
        if out.get("module", "").startswith("ember."):
            out["module"] = "keras.losses"
        return out
    from .. import losses

    return losses.serialize(loss)


def _serialize_metrics(metrics):
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, dict):
        return {k: _serialize_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [_serialize_metrics(v) for v in metrics]
    if hasattr(metrics, "get_config"):
        from .. import metrics as metrics_module

        return metrics_module.serialize(metrics)
    out = serialize_keras_object(metrics)
    if out.get("module", "").startswith("ember."):
        out["module"] = "keras.metrics"
    return out


def _deserialize_loss(loss, custom_objects, safe_mode):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, list):
        return [_deserialize_loss(v, custom_objects, safe_mode) for v in loss]
    if isinstance(loss, dict) and "class_name" not in loss:
        return {k: _deserialize_loss(v, custom_objects, safe_mode) for k, v in loss.items()}
    return deserialize_keras_object(loss, custom_objects, safe_mode, family="losses")


def _deserialize_metrics(metrics, custom_objects, safe_mode):
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, list):
        return [_deserialize_metrics(v, custom_objects, safe_mode) for v in metrics]
    if isinstance(metrics, dict) and "class_name" not in metrics:
        return {k: _deserialize_metrics(v, custom_objects, safe_mode) for k, v in metrics.items()}
    return deserialize_keras_object(metrics, custom_objects, safe_mode, family="metrics")


def _strip_module(config):
    # Keras names backend-specific optimizer modules (keras.src.backend.torch.optimizers.torch_adam)
    return {k: v for k, v in config.items() if k != "module"}
