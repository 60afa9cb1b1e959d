"""``ember.distillation`` (Keras's ``keras.distillation``): not built on Ember yet.

Keras's ``Distiller`` trains a student model against a frozen teacher's
logits or intermediate features. Ember has no Distiller class yet; each name
raises NotImplementedError with the equivalent to write by hand: a subclassed
``Model`` holding both models whose ``compute_loss`` adds
``KLDivergence()(softmax(teacher(x) / T), softmax(student(x) / T)) * T**2`` to
the student's own loss.
"""

from __future__ import annotations

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]

_ADVICE = (
    "is not available in Ember yet; subclass ember.Model with the teacher and the student and override "
    "compute_loss to add the distillation term (KL divergence of temperature-softened softmaxes, times T**2)"
)


def _refused_class(name):
    def refuse(self, *args, **kwargs):
        raise NotImplementedError(f"keras.distillation.{name} {_ADVICE}")

    doc = f"Keras's ``distillation.{name}``; constructing one raises NotImplementedError on Ember."
    return type(name, (), {"__init__": refuse, "__doc__": doc})


DistillationLoss = _refused_class("DistillationLoss")
Distiller = _refused_class("Distiller")
FeatureDistillation = _refused_class("FeatureDistillation")
LogitsDistillation = _refused_class("LogitsDistillation")
