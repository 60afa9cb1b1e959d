"""col2im for the convolution's input gradient: a numba loop, used where numba is (NumPy does it per offset).

The input gradient of a convolution, for a block of output rows (see :mod:`ember.ops._windows`), is
``d = g_block @ kernel2d.T`` (rows, KH*KW*C), one matmul, followed by col2im: row ``r`` (image ``n``, output
cell ``(y, x)``) adds its slice ``d[r, (a*KW + b)*C : ...]`` into the padded gradient at cell
``(y*sh + a*dh, x*sw + b*dw)``. NumPy has no scatter-add of slabs, so :class:`~ember.ops.conv.Conv2D` does
the same sums as KH*KW matmuls and strided adds; this kernel does all of col2im in one pass while the block
is in the cache. The two paths add the same products in another order (float32-honest, not bitwise).
"""

from __future__ import annotations

import numpy

from ..backend import jit

# Below this many input-gradient elements NumPy is fast enough, and numba's first use costs ~100 MiB of
# memory (LLVM): small convolutions stay on NumPy (tests lower it to run the kernel).
KERNEL_MIN_SIZE = 1 << 15


@jit.kernel
def _col2im_kernel(d, n0, h0, rows_h, ow, kh, kw, sh, sw, dh, dw, gpad):
    # d: (rows, kh*kw*c), rows ordered (image n0.., output row h0.., output column); adds into gpad
    c = gpad.shape[3]
    per_image = rows_h * ow
    for r in range(d.shape[0]):
        n = n0 + r // per_image
        rem = r % per_image
        y = (h0 + rem // ow) * sh
        x = (rem % ow) * sw
        for a in range(kh):
            for b in range(kw):
                dst = gpad[n, y + a * dh, x + b * dw]
                base = (a * kw + b) * c
                for ch in range(c):
                    dst[ch] += d[r, base + ch]


def col2im_kernel(xp, size: int):
    """The compiled col2im, or None (NumPy arrays only, ``size`` elements of input gradient or more)."""
    if xp is not numpy or size < KERNEL_MIN_SIZE:
        return None
    return _col2im_kernel.compiled()
