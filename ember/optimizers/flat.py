"""``FlatParameters``: trainable variables, their optimizer slots and gradients as views into flat buffers.

The compiled training step (:mod:`ember.compile.train_function`) sets this up
once an optimizer is built. For each dtype, every trainable variable that gets
a dense gradient is given storage as a slice of one contiguous 1-D array (its
``data`` becomes a reshaped view of that slice, holding the same values);
its optimizer slots (Adam's momentum and velocity, ...) and a gradient buffer
get the same layout. The optimizer then updates all of them with a handful of
vectorised calls over whole buffers (:meth:`Optimizer._flat_update_step`)
instead of a loop per variable, and the step's backward writes each gradient
straight into its slice.

Everything else keeps working on the views: ``assign``, ``set_weights``,
``load_weights`` and the optimizer's ``set_weights`` write into ``data`` in
place. If anything rebinds a variable's ``data`` to another array (another
model sharing the layer set up its own buffers, a copy of the model), the next
step sees it (:meth:`FlatGroup.intact`) and copies the current values back into
the buffer (:meth:`FlatGroup.adopt`) before updating.

Shapes: a group's ``w``, ``g`` and each of ``slots`` are 1-D of length ``size``
(the sum of its variables' sizes), in the variables' order.

Only variables of up to :data:`FLAT_MAX_SIZE` elements join a group. The buffers save the Python cost of one
``update_step`` per variable (a few microseconds each), but every gradient must first be copied into ``g`` (the
backward's own array, or the compiled step's ``copyto`` into the view): for a big variable that copy costs more
than the call it saves (W1's 784x512 kernel: ~0.12 ms of a 2.8 ms step for the copy, against ~5 us for a call).
Bigger variables are updated one by one, by the same fused kernel on the gradient where the backward left it;
the rule is elementwise, so the numbers are the same either way.
"""

from __future__ import annotations

import numpy

# the largest variable (in elements) that goes through a flat buffer; bigger ones are updated where they are
FLAT_MAX_SIZE = 1 << 16


class FlatGroup:
    """Variables of one dtype (NumPy, C order), their slots and gradients in contiguous buffers.

    Args:
        variables: the trainable Variables of this group, in order.
        slot_lists: one list per optimizer slot kind (momentum, velocity, ...),
            each holding the slot Variable of every variable, aligned with ``variables``.
    """

    def __init__(self, variables, slot_lists):
        self.variables = list(variables)
        self.dtype = self.variables[0].dtype
        self.offsets = []
        size = 0
        for v in self.variables:
            self.offsets.append(size)
            size += int(v.data.size)
        self.size = size
        xp = self.variables[0].device.xp  # the buffers live where the variables do
        self.w = xp.empty(size, dtype=self.dtype)
        self.g = xp.zeros(size, dtype=self.dtype)
        self.slots = [xp.empty(size, dtype=self.dtype) for _ in slot_lists]
        self.slot_variables = [list(slots) for slots in slot_lists]
        self.weight_views = self._views(self.w)
        self.grad_views = self._views(self.g)
        self.slot_views = [self._views(flat) for flat in self.slots]
        self._scratch = {}
        # every variable and slot, and the view it holds, in two aligned lists (what intact() checks)
        self._owners = self.variables + [v for slots in self.slot_variables for v in slots]
        self._owned_views = self.weight_views + [view for views in self.slot_views for view in views]
        self.adopt()

    def _views(self, flat):
        """One view of ``flat`` per variable, shaped like it."""
        return [
            flat[offset : offset + v.data.size].reshape(v.data.shape) for offset, v in zip(self.offsets, self.variables)
        ]

    def adopt(self) -> None:
        """Copy the variables' (and slots') current values into the buffers and point ``data`` at the views."""
        for owners, views in [(self.variables, self.weight_views)] + list(zip(self.slot_variables, self.slot_views)):
            for variable, view in zip(owners, views):
                if variable.data is not view:
                    view[...] = variable.data
                    variable.data = view

    def intact(self) -> bool:
        """Whether every variable and slot still holds its view (nothing rebound ``data``) and is trainable."""
        for variable in self.variables:
            if not variable.trainable:
                return False
        for owner, view in zip(self._owners, self._owned_views):  # (one flat loop: the check runs every step)
            if owner.data is not view:
                return False
        return True

    def scratch(self, k: int = 0):
        """A reusable 1-D work array of the group's size and dtype (``k`` tells several apart)."""
        buf = self._scratch.get(k)
        if buf is None:
            buf = self._scratch[k] = numpy.empty(self.size, dtype=self.dtype)
        return buf


class FlatLayout:
    """How one ``apply`` call's variables go through flat buffers: the groups, and the variables left out.

    Built by :meth:`Optimizer._flat_layout` for a list of variables and the kinds of their gradients
    (``key``); ``positions[k]`` lists, for group ``k``, its variables' positions in that list, and ``rest``
    the positions updated one by one (row-sparse gradients, other devices, non-float dtypes, variables of more
    than :data:`FLAT_MAX_SIZE` elements).
    """

    def __init__(self, key, groups, positions, rest):
        self.key = key
        self.groups = groups
        self.positions = positions
        self.rest = rest
        self.checked = None  # the last list of variables flat_layout matched against ``key``
        self.pairs = [(k, view) for group, ks in zip(groups, positions) for k, view in zip(ks, group.grad_views)]

    def holds(self, grads) -> bool:
        """Whether every flat gradient is in its view (written there by the caller) and no other one is None."""
        for k, view in self.pairs:
            if grads[k] is not view:
                return False
        for k in self.rest:
            if grads[k] is None:
                return False
        return True

    def prepare(self) -> bool:
        """Re-adopt the variables whose ``data`` was rebound since the last update (values copied in).

        False if one of them is no longer trainable (``apply`` would skip it: the caller goes through ``apply``).
        """
        for group in self.groups:
            if not group.intact():
                if not all(v.trainable for v in group.variables):
                    return False
                group.adopt()
        return True

    def gradient_views(self, n):
        """For a list of ``n`` variables: the gradient view each flat one's gradient may be written into, else None."""
        views = self.__dict__.get("_views")
        if views is None or len(views) != n:
            views = self._views = [None] * n
            for group, positions in zip(self.groups, self.positions):
                for k, view in zip(positions, group.grad_views):
                    views[k] = view
        return views
