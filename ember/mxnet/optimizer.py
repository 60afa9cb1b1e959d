"""MXNet's optimizers (``mx.optimizer``) with MXNet 1.x's update rules, on NumPy arrays in place.

Every rule first forms ``g = rescale_grad * grad`` (``Trainer.step(batch_size)`` sets rescale_grad =
1 / batch_size), clips it to ``[-clip_gradient, clip_gradient]`` when set, and uses weight decay ``wd``
as MXNet does for that optimizer (added to the gradient, except AdaGrad which adds it to the step).
Per-parameter ``lr_mult`` / ``wd_mult`` scale the learning rate and the decay.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base: ``learning_rate``, ``wd``, ``rescale_grad``, ``clip_gradient``; one state per parameter index."""

    default_lr = 0.01

    def __init__(
        self,
        learning_rate=None,
        wd=0.0,
        rescale_grad=1.0,
        clip_gradient=None,
        lr_scheduler=None,
        multi_precision=False,
        **kwargs,
    ):
        self.lr = self.default_lr if learning_rate is None else float(learning_rate)
        self.wd, self.rescale_grad, self.clip_gradient = float(wd), float(rescale_grad), clip_gradient
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is not None and learning_rate is not None:
            lr_scheduler.base_lr = float(learning_rate)  # MXNet's rule: the optimizer's rate is the schedule's base
        self.num_update = 0
        self._counts: dict[int, int] = {}
        self.states: dict[int, object] = {}
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unknown arguments {sorted(kwargs)}")

    @property
    def learning_rate(self):
        return self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning(
                "set_learning_rate: this optimizer has an lr_scheduler, which sets the rate of every update; "
                "set_learning_rate changes the rate only of an optimizer without one (MXNet's rule)"
            )
        self.lr = float(lr)

    def _grad(self, grad, weight, wd, add_wd=True):
        g = self.rescale_grad * grad
        if add_wd and wd:
            g = g + wd * weight
        if self.clip_gradient is not None:
            g = np.clip(g, -self.clip_gradient, self.clip_gradient)
        return g

    def update(self, index, weight, grad, lr_mult=1.0, wd_mult=1.0):
        """One step for parameter ``index``: ``weight`` (NumPy, updated in place) from ``grad``."""
        self._counts[index] = self._counts.get(index, 0) + 1
        self.num_update = max(self.num_update, self._counts[index])
        if index not in self.states:
            self.states[index] = self.create_state(weight)
        self._step(index, weight, grad, self.learning_rate * lr_mult, self.wd * wd_mult, self.states[index])

    def create_state(self, weight):
        return None


class SGD(Optimizer):
    """``mom = momentum * mom - lr * (g + wd * w); w += mom`` (no momentum: ``w -= lr * (g + wd * w)``).

    MXNet applies the clip before adding wd for SGD."""

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def create_state(self, weight):
        return np.zeros_like(weight) if self.momentum else None

    def _step(self, index, w, grad, lr, wd, mom):
        g = self.rescale_grad * grad
        if self.clip_gradient is not None:
            g = np.clip(g, -self.clip_gradient, self.clip_gradient)
        g = g + wd * w
        if mom is None:
            w -= lr * g
        else:
            mom *= self.momentum
            mom -= lr * g
            w += mom


class Adam(Optimizer):
    """Kingma & Ba with MXNet's bias correction folded into the rate: lr * sqrt(1 - b2^t) / (1 - b1^t)."""

    default_lr = 0.001

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def create_state(self, weight):
        return np.zeros_like(weight), np.zeros_like(weight)

    def _step(self, index, w, grad, lr, wd, state):
        m, v = state
        t = self._counts[index]
        lr = lr * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        g = self._grad(grad, w, wd)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        w -= (lr * m / (np.sqrt(v) + self.epsilon)).astype(w.dtype)


class RMSProp(Optimizer):
    """Tieleman & Hinton: ``n = gamma1 * n + (1 - gamma1) * g^2; w -= lr * g / sqrt(n + epsilon)``
    (``centered=True``: Graves's variant with the mean gradient and momentum gamma2)."""

    default_lr = 0.001

    def __init__(self, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False, clip_weights=None, **kwargs):
        super().__init__(**kwargs)
        self.gamma1, self.gamma2, self.epsilon = gamma1, gamma2, epsilon
        self.centered, self.clip_weights = centered, clip_weights

    def create_state(self, weight):
        if self.centered:
            return np.zeros_like(weight), np.zeros_like(weight), np.zeros_like(weight)
        return (np.zeros_like(weight),)

    def _step(self, index, w, grad, lr, wd, state):
        g = self._grad(grad, w, wd)
        n = state[0]
        n *= self.gamma1
        n += (1 - self.gamma1) * g * g
        if not self.centered:
            w -= lr * g / np.sqrt(n + self.epsilon)
        else:
            mean_g, delta = state[1], state[2]
            mean_g *= self.gamma1
            mean_g += (1 - self.gamma1) * g
            delta *= self.gamma2
            delta -= lr * g / np.sqrt(n - mean_g * mean_g + self.epsilon)
            w += delta
        if self.clip_weights:
            np.clip(w, -self.clip_weights, self.clip_weights, out=w)


class AdaGrad(Optimizer):
    """Duchi et al.: ``h += g^2; w -= lr * (g / sqrt(h + eps) + wd * w)``."""

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, weight):
        return np.zeros_like(weight)

    def _step(self, index, w, grad, lr, wd, history):
        g = self._grad(grad, w, wd, add_wd=False)
        history += g * g
        w -= lr * (g / np.sqrt(history + self.float_stable_eps) + wd * w)


class NAG(Optimizer):
    """Nesterov momentum with MXNet 1.9's in-place order (``nag_mom_update(..., out=weight)``):

        v = momentum * mom - lr * (g + wd * w);  w <- w + momentum * v - lr * (g + wd * w)
        mom <- momentum * mom - lr * (g + wd * w_new)   (the kernel reads the weight it has just written)

    Without momentum: ``w -= lr * (g + wd * w)``.
    """

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def create_state(self, weight):
        return np.zeros_like(weight) if self.momentum else None

    def _step(self, index, w, grad, lr, wd, mom):
        g = self._grad(grad, w, 0.0)
        if mom is None:
            w -= lr * (g + wd * w)
            return
        step = self.momentum * mom - lr * (g + wd * w)
        w += self.momentum * step - lr * (g + wd * w)
        mom *= self.momentum
        mom -= lr * (g + wd * w)


class AdaDelta(Optimizer):
    """Zeiler: running averages of g^2 and of the squared steps (rho); the learning rate is not used."""

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        kwargs.setdefault("learning_rate", 1.0)
        super().__init__(**kwargs)
        self.rho, self.epsilon = rho, epsilon

    def create_state(self, weight):
        return np.zeros_like(weight), np.zeros_like(weight)

    def _step(self, index, w, grad, lr, wd, state):
        acc_g, acc_delta = state
        g = self._grad(grad, w, 0.0)
        acc_g *= self.rho
        acc_g += (1 - self.rho) * g * g
        delta = np.sqrt(acc_delta + self.epsilon) / np.sqrt(acc_g + self.epsilon) * g
        acc_delta *= self.rho
        acc_delta += (1 - self.rho) * delta * delta
        w -= delta + wd * w


class Adamax(Optimizer):
    """Adam with the infinity norm: ``u = max(beta2 * u, |g|); w -= lr / (1 - beta1^t) * m / u``."""

    default_lr = 0.002

    def __init__(self, beta1=0.9, beta2=0.999, **kwargs):
        super().__init__(**kwargs)
        self.beta1, self.beta2 = beta1, beta2

    def create_state(self, weight):
        return np.zeros_like(weight), np.zeros_like(weight)

    def _step(self, index, w, grad, lr, wd, state):
        m, u = state
        lr = lr / (1.0 - self.beta1 ** self._counts[index])
        g = self._grad(grad, w, wd)
        m *= self.beta1
        m += (1 - self.beta1) * g
        np.maximum(self.beta2 * u, np.abs(g), out=u)
        w -= lr * m / u


_BY_NAME = {
    "sgd": SGD,
    "adam": Adam,
    "rmsprop": RMSProp,
    "adagrad": AdaGrad,
    "nag": NAG,
    "adadelta": AdaDelta,
    "adamax": Adamax,
}


def create(name, **kwargs) -> Optimizer:
    """An optimizer by MXNet's name (``'sgd'``, ``'adam'``, ``'rmsprop'``, ``'adagrad'``)."""
    if isinstance(name, Optimizer):
        return name
    key = str(name).lower()
    if key not in _BY_NAME:
        raise ValueError(f"optimizer: unknown name {name!r}; Ember has {sorted(_BY_NAME)}")
    return _BY_NAME[key](**kwargs)
