"""The CuPy backend (ember/backend/cuda.py and the ``*_cuda.py`` GPU forms beside the ops).

Three kinds of tests (docs/gpu.md says what each proves):

- always: device parsing and scopes, which GPU form an op picks, the pinned stager's buffer reuse (with a
  stand-in for the CUDA calls), ``model.to`` / ``fit(device=...)`` end to end on the ``strict`` device
  (NumPy behind CuPy's refusals), and each kernel's NumPy reference against the CPU op it replaces;
- with NVRTC (``pip install nvidia-cuda-nvrtc-cu12``, no GPU needed): every kernel source compiles;
- ``test_gpu_*``, only where CuPy sees a GPU: each kernel against its NumPy reference, the ops and a
  training run on ``cuda`` against the CPU. They skip with the reason elsewhere.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.backend import cuda
from ember.backend.device import Device, default_device
from ember.ops import conv_cuda, pooling_cuda, recurrent, recurrent_cuda
from ember.ops.convolution import Conv2D
from ember.optimizers import flat_cuda, kernels

GPU = cuda.is_available()
if os.environ.get("EMBER_REQUIRE_GPU") == "1" and not GPU:  # benchmarks/gpu_check.sh: no silent skips there
    raise RuntimeError("EMBER_REQUIRE_GPU=1 but CuPy sees no GPU (is cupy-cuda12x installed, is a driver present?)")
needs_gpu = pytest.mark.skipif(not GPU, reason="no GPU: CuPy is not installed or sees no CUDA device/driver")
ROOT = Path(__file__).resolve().parents[1]


def _nvrtc_or_skip():
    try:
        cuda.compile_check('extern "C" __global__ void ember_probe() {}')
    except cuda.CompileError:
        raise
    except Exception as err:  # no CuPy, or no NVRTC library
        pytest.skip(f"cannot compile CUDA here ({type(err).__name__}: {err}); pip install nvidia-cuda-nvrtc-cu12")


# ---- devices ---------------------------------------------------------------------------------------------


def test_device_parsing_and_keras_gpu_alias():
    assert Device("cuda") == Device("cuda:0") == Device("gpu:0") == "cuda:0"
    assert Device("gpu:1").index == 1 and str(Device("GPU:1")) == "cuda:1"
    with pytest.raises(ValueError, match="cuda:N"):
        Device("cuda:x")
    with pytest.raises(ValueError, match="unknown device type"):
        Device("tpu")


def test_device_scope_sets_the_default_device_and_nests():
    before = default_device()
    with ember.device("strict") as d:
        assert d == "strict" and default_device() == "strict"
        assert ember.zeros(2).device == "strict" and ember.tensor([1.0]).device == "strict"
        with ember.device("cpu"):
            assert default_device() == "cpu" and ember.ones(1).device == "cpu"
        assert default_device() == "strict"
    assert default_device() == before


def test_cuda_is_not_picked_for_host_arrays():
    x = np.zeros((2, 3, 3, 1), np.float32)
    assert not cuda.on_cuda(x) and not conv_cuda.applies(x)
    assert not pooling_cuda.applies(np, x, (2, 2))
    w = np.zeros(4, np.float32)
    assert flat_cuda.adam(w, w.copy(), w.copy(), w.copy(), None, (1, 0.9, 0.1, 0.99, 0.01, 1e-7)) is False
    assert flat_cuda.sgd(w, w.copy(), None, False, 0.1, 0.0) is False
    assert flat_cuda.adadelta(w, w.copy(), w.copy(), w.copy(), 0.95, 0.05, 1e-7, 1.0) is False
    assert cuda.batch_stager() is None  # the default device is cpu here


def test_lstm_step_forms_are_mapped_by_kernel_and_dtype():
    forms = recurrent_cuda._GPU_FORMS  # numba step kernel -> its GPU form (same arguments)
    assert set(forms.values()) == {recurrent_cuda.forward_step, recurrent_cuda.backward_step}
    for kernel, form in forms.items():
        assert recurrent_cuda.step_for(kernel, np.float32) is form
        assert recurrent_cuda.step_for(kernel, np.float64) is form
        assert recurrent_cuda.step_for(kernel, np.float16) is None
    assert recurrent_cuda.step_for(object(), np.float32) is None  # kernels without a GPU form (GRU, ...)
    assert cuda.type_name(np.float16) is None and cuda.type_name("float64") == "double"


# ---- kernel sources --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(cuda.SOURCES))
@pytest.mark.parametrize("ctype", ["float", "double"])
def test_kernel_source_compiles_with_nvrtc(name, ctype):
    _nvrtc_or_skip()
    units = cuda.check_sources(name, ctype)
    for source, options in units:
        cuda.compile_check(source, options=options)
    if cuda.SOURCES[name][0] == "elementwise":
        assert len(units) == 2, "CuPy's own generated code could not be built (its internals changed?)"


def test_cupy_generated_code_check_refuses_what_cupy_would_refuse():
    _nvrtc_or_skip()
    built = cuda.cupy_elementwise_source("T x, int32 n", "T y", "y = x * n;", "", "float")
    if built is None:
        pytest.skip("this CuPy's private code generator differs from CuPy 14's")
    cuda.compile_check(built[0], options=built[1])
    assert "CIndexer" in built[0] and "_raw_x" in built[0]
    # a body that does not compile in CuPy's own code is refused, with NVRTC's message
    bad = cuda.cupy_elementwise_source("T x", "T y", "y = x + missing_name;", "", "double")
    with pytest.raises(cuda.CompileError, match="missing_name"):
        cuda.compile_check(bad[0], options=bad[1])


def test_compile_check_refuses_broken_sources():
    _nvrtc_or_skip()
    with pytest.raises(cuda.CompileError, match="expected a"):
        cuda.compile_check('extern "C" __global__ void f(float* y) { y[0] = 1.f }')
    source = cuda.elementwise_check_source("T x", "T y", "y = x * undeclared;", "", "float")
    with pytest.raises(cuda.CompileError, match="undeclared"):
        cuda.compile_check(source)


def test_every_gpu_form_registers_its_kernels():
    expected = {"conv_col2im", "max_pool_forward", "max_pool_backward", "lstm_forward_step", "lstm_backward_step"}
    expected |= {"adam", "adam_amsgrad", "adadelta", "sgd", "sgd_momentum", "sgd_nesterov"}
    expected |= {"rmsprop", "rmsprop_centered", "rmsprop_momentum", "rmsprop_centered_momentum"}
    assert expected <= set(cuda.SOURCES)


# ---- the kernels' NumPy references against the CPU ops --------------------------------------------------

CONV_CASES = [
    # (x shape, kernel (kh, kw), strides, padding, dilation)
    ((2, 7, 6, 3), (3, 3), (1, 1), "same", (1, 1)),
    ((2, 9, 8, 2), (3, 2), (2, 3), "valid", (1, 1)),
    ((1, 10, 9, 2), (3, 3), (1, 1), "valid", (2, 2)),
    ((2, 8, 8, 3), (5, 5), (2, 2), "same", (1, 1)),
    ((1, 6, 7, 1), (1, 3), (3, 1), "same", (1, 2)),
]


@pytest.mark.host_only("compares a kernel's NumPy reference with the CPU op on host arrays")
@pytest.mark.parametrize("x_shape,k_hw,strides,padding,dilation", CONV_CASES)
def test_col2im_reference_gives_the_conv_input_gradient(x_shape, k_hw, strides, padding, dilation, rng):
    from ember.ops._windows import spatial_geometry

    x = rng.standard_normal(x_shape)
    k = rng.standard_normal(k_hw + (x_shape[-1], 4))
    n, h, w, c = x_shape
    out_hw, pads = spatial_geometry("conv2d", padding, (h, w), k_hw, strides, dilation)
    g2 = rng.standard_normal((n * out_hw[0] * out_hw[1], 4))
    expected = Conv2D._input_grad(np, g2, k, x_shape, pads, out_hw, strides, dilation)
    (t, b), (left, r) = pads
    pad_shape = (n, h + t + b, w + left + r, c)
    d = g2 @ k.reshape(-1, 4).T
    gpad = conv_cuda.col2im_reference(d, pad_shape, out_hw, k_hw, strides, dilation)
    np.testing.assert_allclose(gpad[:, t : t + h, left : left + w], expected, rtol=1e-12, atol=1e-12)
    # and the whole op's gradient (forward, then backward) agrees with it
    xt = ember.tensor(x, dtype="float64", requires_grad=True)
    y = ember.conv2d(xt, ember.tensor(k, dtype="float64"), strides=strides, padding=padding, dilation_rate=dilation)
    (y * ember.tensor(g2.reshape(y.shape), dtype="float64")).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), gpad[:, t : t + h, left : left + w], rtol=1e-12, atol=1e-12)


POOL_CASES = [
    # (x shape, pool, strides, padding)
    ((2, 6, 6, 3), (2, 2), (2, 2), "valid"),
    ((2, 7, 5, 2), (3, 3), (2, 2), "same"),
    ((1, 8, 8, 2), (3, 2), (1, 1), "valid"),
    ((1, 5, 7, 1), (2, 3), (3, 2), "same"),
]


@pytest.mark.host_only("compares a kernel's NumPy reference with the CPU op on host arrays")
@pytest.mark.parametrize("x_shape,pool,strides,padding", POOL_CASES)
def test_max_pool_references_give_the_op(x_shape, pool, strides, padding, rng):
    x = rng.integers(-3, 4, x_shape).astype(np.float32)  # small integers: many ties
    x.flat[::7] = -0.0
    x.flat[5] = np.nan
    xt = ember.tensor(x, requires_grad=True)
    y = ember.max_pool2d(xt, pool, strides, padding)
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * ember.tensor(g)).sum().backward()
    fn = pooling_cuda.max_pool_reference
    from ember.ops._windows import pad_spatial, spatial_geometry

    out_hw, pads = spatial_geometry("max_pool2d", padding, x_shape[1:3], pool, strides, (1, 1))
    xpad = pad_spatial(np, x, pads, -np.inf)
    out, winner = fn(xpad, out_hw, pool, strides)
    np.testing.assert_array_equal(out, y.numpy())  # NaN where the op has NaN
    assert np.array_equal(np.signbit(out), np.signbit(y.numpy()))
    assert np.all((winner == 255) == np.isnan(out))
    gpad = pooling_cuda.max_pool_backward_reference(g, winner, xpad.shape, pool, strides)
    (t, _), (left, _) = pads
    h, w = x_shape[1:3]
    np.testing.assert_array_equal(gpad[:, t : t + h, left : left + w], xt.grad.numpy())


def _reference_fused(self, kernel):
    """LSTM._fused with the GPU forms' NumPy references in place of the numba kernels."""
    if self.act != "tanh" or self.rec != "sigmoid":
        return None
    references = {
        recurrent_cuda.forward_step: recurrent_cuda.forward_step_reference,
        recurrent_cuda.backward_step: recurrent_cuda.backward_step_reference,
    }
    form = recurrent_cuda._GPU_FORMS.get(kernel)
    return None if form is None else references[form]


def _lstm_run(arrays, mask, go_backwards, dtype):
    tensors = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    outs = ember.lstm(*tensors, mask=mask, go_backwards=go_backwards)
    rng = np.random.default_rng(5)
    sum((o * ember.tensor(rng.standard_normal(o.shape), dtype=dtype)).sum() for o in outs).backward()
    return [o.numpy() for o in outs] + [t.grad.numpy() for t in tensors]


@pytest.mark.host_only("compares a kernel's NumPy reference with the CPU op on host arrays")
@pytest.mark.parametrize("masked,go_backwards", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_step_references_give_the_op(masked, go_backwards, dtype, rng, monkeypatch):
    from ember.backend import jit

    b, t, f, u = 3, 5, 4, 6
    arrays = [rng.standard_normal(s) * 0.5 for s in ((b, t, f), (b, u), (b, u), (f, 4 * u), (u, 4 * u), (4 * u,))]
    mask = None
    if masked:
        mask = rng.random((b, t)) < 0.6
        mask[1] = False
        mask[0, 0] = True
    previous = jit.enabled()
    jit.set_enabled(False)  # the plain NumPy path
    try:
        expected = _lstm_run(arrays, mask, go_backwards, dtype)
        monkeypatch.setattr(recurrent.LSTM, "_fused", _reference_fused)
        got = _lstm_run(arrays, mask, go_backwards, dtype)
    finally:
        jit.set_enabled(previous)
    tol = 1e-12 if dtype == "float64" else 2e-6
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


# ---- a C-subset emulator: the kernels' own text, executed on the CPU ---------------------------------------
#
# The kernels are written in a small subset of CUDA C (one statement per line, braces at line ends, no
# pointers, integer '/' and '%' only on non-negative ints in RawKernels). _c_to_python translates that subset
# line by line into Python, which runs each thread (RawKernel) or element (ElementwiseKernel) in turn with
# NumPy scalars of the kernel's T, so float32 stays float32. It runs the very source CuPy would compile, on the
# wrappers' real arguments: the index arithmetic, the branches and the argument order are exercised, which
# compiling alone cannot show.

_C_TYPES_RE = r"(?:const\s+)?(?:T|int|long long|bool|unsigned char|float|double)"


def _c_expr(expr, integer_division):
    expr = re.sub(r"\((?:long long|unsigned char)\)", "", expr)
    expr = expr.replace("(int)", "int").replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr)
    expr = re.sub(r"\btrue\b", "True", expr)
    expr = re.sub(r"\bfalse\b", "False", expr)
    expr = expr.replace("blockDim.x * blockIdx.x + threadIdx.x", "_tid")
    if integer_division:
        expr = expr.replace(" / ", " // ")
    ternary = re.fullmatch(r"(.+?) \? (.+?) : (.+)", expr.strip())
    if ternary:
        expr = f"(({ternary[2]}) if ({ternary[1]}) else ({ternary[3]}))"
    return expr


def _c_to_python(body, integer_division):
    """The statements of ``body`` as Python lines (a list), indented by nesting."""
    out, depth = [], 0

    def emit(line):
        out.append("    " * depth + line)

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            depth -= 1
            continue
        m = re.fullmatch(r"\} else if \((.+)\) \{", line)
        if m:
            depth -= 1
            emit(f"elif {_c_expr(m[1], integer_division)}:")
            depth += 1
            continue
        if line == "} else {":
            depth -= 1
            emit("else:")
            depth += 1
            continue
        m = re.fullmatch(r"for \(" + _C_TYPES_RE + r" (\w+) = (.+); \1 < (.+); \+\+\1\) \{", line)
        if m:
            emit(f"for {m[1]} in range({_c_expr(m[2], True)}, {_c_expr(m[3], True)}):")
            depth += 1
            continue
        m = re.fullmatch(r"if \((.+)\) \{", line)
        if m:
            emit(f"if {_c_expr(m[1], integer_division)}:")
            depth += 1
            continue
        m = re.fullmatch(r"if \((.+?)\) (return|break|continue|[^;]+);", line)
        if m:
            emit(f"if {_c_expr(m[1], integer_division)}: {_c_statement(m[2], integer_division)}")
            continue
        assert line.endswith(";"), f"emulator: not a statement: {line!r}"
        emit(_c_statement(line[:-1], integer_division))
    return out


def _c_statement(stmt, integer_division):
    if stmt in ("return", "break", "continue"):
        return stmt
    m = re.fullmatch(_C_TYPES_RE + r" (\w+(?:, \w+)+)", stmt)
    if m:  # declarations without values
        return "pass"
    m = re.fullmatch(r"(" + _C_TYPES_RE + r") (\w+) = (.+)", stmt)
    if m:
        kind, name, value = m[1].replace("const ", ""), m[2], _c_expr(m[3], integer_division)
        return f"{name} = T({value})" if kind in ("T", "float", "double") else f"{name} = {value}"
    m = re.fullmatch(r"(\w+) (/)= (.+)", stmt)
    if m and integer_division:
        return f"{m[1]} //= {_c_expr(m[3], True)}"
    m = re.fullmatch(r"([\w\[\]\s\+\*\(\)-]+?) ([-+*]?=) (.+)", stmt)
    assert m, f"emulator: cannot translate {stmt!r}"
    return f"{m[1]} {m[2]} {_c_expr(m[3], integer_division)}"


_MATH = {"tanh": np.tanh, "sqrt": np.sqrt, "int": int}


class _EmulatedRawKernel:
    """Stands for ``cupy.RawKernel``: ``kernel(grid, block, args)`` runs every thread of the launch in turn."""

    def __init__(self, source, ctype):
        m = re.search(r'extern "C" __global__ void (\w+)\((.*?)\)\s*\{(.*)\}\s*$', source, re.S)
        self.params = [p.split()[-1].lstrip("*") for p in m[2].split(",")]
        lines = _c_to_python(m[3], integer_division=True)
        code = "def _thread(_tid, " + ", ".join(self.params) + "):\n" + "\n".join("    " + x for x in lines)
        scope = dict(_MATH, T={"float": np.float32, "double": np.float64}[ctype])
        exec(compile(code, "<emulated kernel>", "exec"), scope)
        self.thread = scope["_thread"]

    def __call__(self, grid, block, args):
        args = [a.reshape(-1) if isinstance(a, np.ndarray) and a.ndim else a for a in args]  # C pointers
        args = [int(a) if isinstance(a, np.integer) else a for a in args]
        for tid in range(grid[0] * block[0]):
            self.thread(tid, *args)


class _EmulatedElementwiseKernel:
    """Stands for ``cupy.ElementwiseKernel``: inputs then outputs, broadcast; the body runs per element."""

    def __init__(self, in_params, out_params, operation):
        self.ins = [p.split() for p in in_params.split(",")]
        self.outs = [p.split() for p in out_params.split(",")]
        names = [n for _, n in self.ins + self.outs]
        lines = _c_to_python(operation, integer_division=False)
        code = "def _element(" + ", ".join(names) + "):\n" + "\n".join("    " + x for x in lines or ["pass"])
        code += "\n    return (" + ", ".join(n for _, n in self.outs) + ",)\n"
        self.code = code

    def __call__(self, *args):
        assert len(args) == len(self.ins) + len(self.outs), "emulator: wrong number of kernel arguments"
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        t = next(
            a.dtype.type for a, (kind, _) in zip(args, self.ins + self.outs) if kind == "T" and hasattr(a, "dtype")
        )
        scope = dict(_MATH, T=t)
        exec(compile(self.code, "<emulated kernel>", "exec"), scope)
        shape = np.broadcast_shapes(*[a.shape for a in arrays])
        outs = args[len(self.ins) :]
        assert all(o.shape == shape for o in outs), "emulator: outputs must have the broadcast shape"
        for index in np.ndindex(*shape):
            values = [
                np.broadcast_to(a, shape)[index] if isinstance(a, np.ndarray) else (t(a) if kind == "T" else a)
                for a, (kind, _) in zip(args, self.ins + self.outs)
            ]
            for out, value in zip(outs, scope["_element"](*values)):
                out[index] = value


@pytest.fixture
def emulated_gpu(monkeypatch):
    """CuPy stood in for by NumPy and the emulator: the GPU forms' wrappers run their kernels' text on the CPU."""
    import types

    fake = types.SimpleNamespace(
        ascontiguousarray=np.ascontiguousarray, empty=np.empty, empty_like=np.empty_like, asarray=np.asarray,
        uint8=np.uint8,
    )  # fmt: skip
    monkeypatch.setattr(cuda, "cupy_module", lambda: fake)
    monkeypatch.setattr(cuda, "on_cuda", lambda a: isinstance(a, np.ndarray))
    monkeypatch.setattr(
        cuda, "raw_kernel", lambda name, ctype="float": _EmulatedRawKernel(cuda.SOURCES[name][1], ctype)
    )
    monkeypatch.setattr(cuda, "elementwise_kernel", lambda name: _EmulatedElementwiseKernel(*cuda.SOURCES[name][1:4]))


@pytest.mark.host_only("runs the kernels' text on host arrays")
@pytest.mark.parametrize("x_shape,k_hw,strides,padding,dilation", CONV_CASES)
def test_emulated_col2im_kernel_gives_the_conv_input_gradient(x_shape, k_hw, strides, padding, dilation, rng,
                                                             emulated_gpu):  # fmt: skip
    from ember.ops._windows import spatial_geometry

    k = rng.standard_normal(k_hw + (x_shape[-1], 4))
    n, h, w, c = x_shape
    out_hw, pads = spatial_geometry("conv2d", padding, (h, w), k_hw, strides, dilation)
    g2 = rng.standard_normal((n * out_hw[0] * out_hw[1], 4))
    expected = Conv2D._input_grad(np, g2, k, x_shape, pads, out_hw, strides, dilation)
    (t, b), (left, r) = pads
    gpad = conv_cuda.input_grad(g2, k, (n, h + t + b, w + left + r, c), out_hw, strides, dilation)
    np.testing.assert_allclose(gpad[:, t : t + h, left : left + w], expected, rtol=1e-12, atol=1e-12)
    d = g2 @ k.reshape(-1, 4).T
    np.testing.assert_array_equal(gpad, conv_cuda.col2im_reference(d, gpad.shape, out_hw, k_hw, strides, dilation))


@pytest.mark.host_only("runs the kernels' text on host arrays")
@pytest.mark.parametrize("x_shape,pool,strides,padding", POOL_CASES)
def test_emulated_max_pool_kernels_give_the_reference_bits(x_shape, pool, strides, padding, rng, emulated_gpu):
    from ember.ops._windows import pad_spatial, spatial_geometry

    x = rng.integers(-3, 4, x_shape).astype(np.float32)
    x.flat[::7] = -0.0
    x.flat[5] = np.nan
    out_hw, pads = spatial_geometry("max_pool2d", padding, x_shape[1:3], pool, strides, (1, 1))
    xpad = pad_spatial(np, x, pads, -np.inf)
    with np.errstate(invalid="ignore"):
        out, winner = pooling_cuda.max_pool_forward(xpad, out_hw, pool, strides)
    ref_out, ref_winner = pooling_cuda.max_pool_reference(xpad, out_hw, pool, strides)
    np.testing.assert_array_equal(out, ref_out)
    assert np.array_equal(np.signbit(out), np.signbit(ref_out))
    np.testing.assert_array_equal(winner, ref_winner)
    g = rng.standard_normal(ref_out.shape).astype(np.float32)
    g.flat[::5] = -0.0
    gpad = pooling_cuda.max_pool_backward(g, winner, xpad.shape, pool, strides)
    ref = pooling_cuda.max_pool_backward_reference(g, ref_winner, xpad.shape, pool, strides)
    np.testing.assert_array_equal(gpad, ref)
    assert np.array_equal(np.signbit(gpad), np.signbit(ref))


@pytest.mark.host_only("runs the kernels' text on host arrays")
@pytest.mark.parametrize("masked,go_backwards", [(False, False), (True, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_emulated_lstm_kernels_inside_the_lstm_op(masked, go_backwards, dtype, rng, monkeypatch, emulated_gpu):
    """The LSTM op with its GPU forms (adapters and kernel text, emulated) against its plain NumPy path."""
    from ember.backend import jit

    b, t, f, u = 2, 4, 3, 3
    arrays = [rng.standard_normal(s) * 0.5 for s in ((b, t, f), (b, u), (b, u), (f, 4 * u), (u, 4 * u), (4 * u,))]
    mask = None
    if masked:
        mask = rng.random((b, t)) < 0.6
        mask[0, 0] = True
        mask[1, -1] = False
    previous = jit.enabled()
    jit.set_enabled(False)
    try:
        expected = _lstm_run(arrays, mask, go_backwards, dtype)
        monkeypatch.setattr(
            recurrent.LSTM,
            "_fused",
            lambda self, kernel: (
                recurrent_cuda.step_for(kernel, self.dtype) if self.act == "tanh" and self.rec == "sigmoid" else None
            ),
        )
        got = _lstm_run(arrays, mask, go_backwards, dtype)
    finally:
        jit.set_enabled(previous)
    tol = 1e-12 if dtype == "float64" else 2e-6
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


@pytest.mark.host_only("runs the kernels' text on host arrays")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_emulated_optimizer_kernels_give_the_numpy_path(dtype, rng, emulated_gpu):
    host = _optimizer_arrays(rng, dtype, 40)
    for gpu, ref in _optimizer_cases(np.dtype(dtype).type):
        got = [a.copy() for a in host]
        assert gpu(got) is True
        want = [a.copy() for a in host]
        ref(want)
        for a, e in zip(got, want):
            np.testing.assert_array_equal(a, e)  # the same operations in the same order and dtype


# ---- pinned staging (the CUDA calls stood in for) ---------------------------------------------------------


class _FakeEvent:
    def __init__(self, log):
        self.log, self.done = log, False

    def synchronize(self):
        self.log.append("wait")
        self.done = True


class _FakeTransfer:
    """Records what PinnedStager asks of CUDA; 'device arrays' are copies of the staged bytes."""

    def __init__(self):
        self.log, self.events = [], []

    def alloc_pinned(self, nbytes):
        self.log.append(("alloc", nbytes))
        return bytearray(nbytes)

    def copy_async(self, host_view):
        event = _FakeEvent(self.log)
        self.events.append(event)
        self.log.append("copy")
        return host_view.copy(), event


def test_pinned_stager_reuses_its_buffers_and_waits_before_refilling():
    fake = _FakeTransfer()
    stager = cuda.PinnedStager("cuda", slots=2, transfer=fake)
    batches = [np.arange(12, dtype=np.float32).reshape(3, 4) + k for k in range(5)]
    outs = [stager.to_device(b) for b in batches]
    for out, batch in zip(outs, batches):
        np.testing.assert_array_equal(out, batch)
    assert stager.allocations == 2  # one buffer per slot, then reused
    # the third batch refills slot 0: it first waits for the first copy (which read that buffer)
    assert fake.log[:6] == [("alloc", 48), "copy", ("alloc", 48), "copy", "wait", "copy"]
    assert fake.events[0].done and fake.events[1].done and not fake.events[4].done
    bigger = stager.to_device(np.ones((5, 4), np.float64))  # slot 1 grows
    assert bigger.shape == (5, 4) and stager.allocations == 3 and ("alloc", 160) in fake.log
    stager.to_device(np.ones(2, np.int32))  # smaller: reused
    assert stager.allocations == 3
    odd = [np.array(True), np.zeros((0, 3), np.float32), np.arange(12.0).reshape(3, 4)[:, ::2]]
    for a in odd:  # 0-d, empty, non-contiguous: same shape, dtype and values
        out = stager.to_device(a)
        assert out.shape == a.shape and out.dtype == a.dtype
        np.testing.assert_array_equal(out, a)


def test_pinned_stager_structures_and_refusals():
    stager = cuda.PinnedStager("cuda:0", slots=1, transfer=_FakeTransfer())
    batch = {"a": np.ones((2, 2), np.float32), "b": [np.zeros(3, np.int64), None], "s": np.array(["x", "y"])}
    out = stager.to_device_structure((batch, np.ones(2)))
    assert out[0]["b"][1] is None and out[0]["s"] is batch["s"]  # strings stay on the host
    np.testing.assert_array_equal(out[0]["a"], batch["a"])
    with pytest.raises(ValueError, match="expected a cuda device, got cpu"):
        cuda.PinnedStager("cpu", transfer=_FakeTransfer())
    with pytest.raises(ValueError, match="slots >= 1"):
        cuda.PinnedStager("cuda", slots=0, transfer=_FakeTransfer())


# ---- model.to and fit(device=...), end to end on the strict device -------------------------------------


def _model(seed=3):
    from ember import layers

    ember.utils.set_random_seed(seed)
    model = ember.Sequential(
        [
            layers.Input((6, 6, 2)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 6, 2)).astype(np.float32)
    return x, (x.mean(axis=(1, 2, 3)) > 0).astype(np.float32)


def test_fit_with_a_device_argument_trains_there_as_on_the_cpu():
    x, y = _data()
    cpu, dev = _model(), _model()
    dev.set_weights(cpu.get_weights())
    before = default_device()
    expected = cpu.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history
    got = dev.fit(x, y, batch_size=8, epochs=2, verbose=0, device="strict", shuffle=False).history
    assert {str(w.device) for w in dev.weights} == {"strict"}
    assert {str(v.device) for v in dev.optimizer.variables if v.ndim > 0} == {"strict"}
    assert default_device() == before  # the scope ended with the call
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6)
    pred = dev.predict(x[:5], verbose=0, device="strict")
    assert type(pred) is np.ndarray  # outputs come back to the host
    np.testing.assert_allclose(pred, cpu.predict(x[:5], verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dev.evaluate(x, y, verbose=0, device="strict"), cpu.evaluate(x, y, verbose=0), rtol=1e-6)


def test_model_to_moves_a_trained_model_and_its_optimizer_state_in_place():
    x, y = _data()
    cpu, dev = _model(), _model()
    dev.set_weights(cpu.get_weights())
    cpu.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    dev.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    kernel = dev.weights[0]
    slots = [v for v in dev.optimizer.variables if v.ndim > 0]
    assert dev.to("strict") is dev
    assert dev.weights[0] is kernel and kernel.device == "strict"  # the same Variable, its data moved
    assert all(v.device == "strict" for v in slots)
    assert dev.optimizer.iterations.device == "cpu"  # host scalars stay
    with ember.device("strict"):
        got = dev.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history["loss"]
    expected = cpu.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    dev.to("cpu")
    assert all(w.device == "cpu" for w in dev.weights)
    for a, b in zip(dev.get_weights(), cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_takes_batches_already_on_the_device(monkeypatch):
    """The trainer's staging hook: batches arrive as device arrays (strict's here, CuPy's on cuda), outputs leave."""
    import ember.training.trainer as trainer
    from ember.backend import to_device

    def strict_stager():  # what batch_stager does for cuda, with strict arrays and no pinned memory
        if default_device() != "strict":
            return None

        def stage(data):
            if isinstance(data, (list, tuple)):
                return type(data)(stage(v) for v in data)
            return to_device(data, "strict") if isinstance(data, np.ndarray) else data

        return stage

    monkeypatch.setattr(trainer, "batch_stager", strict_stager)
    x, y = _data()
    cpu, dev = _model(), _model()
    dev.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy", "AUC", "mae"])
    cpu.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy", "AUC", "mae"])
    dev.set_weights(cpu.get_weights())
    weights = np.linspace(0.5, 1.5, len(x)).astype(np.float32)
    kw = dict(batch_size=8, epochs=2, verbose=0, shuffle=False, sample_weight=weights)
    expected = cpu.fit(x, y, **kw).history
    got = dev.fit(x, y, device="strict", **kw).history
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5)
    pred = dev.predict(x, batch_size=8, verbose=0, device="strict")
    assert type(pred) is np.ndarray
    np.testing.assert_allclose(pred, cpu.predict(x, batch_size=8, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("policy", ["float32", "float16"])
def test_loss_scaling_and_a_float16_policy_train_on_a_device_as_on_the_cpu(policy):
    """What mixed precision has today (docs/gpu.md): LossScaleOptimizer and plain float16 models, on a device."""
    from ember import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8)).astype(np.float32)
    y = x @ rng.standard_normal((8, 1)).astype(np.float32)
    histories = []
    previous = ember.config.floatx()
    ember.config.set_dtype_policy(policy)
    try:
        for device in ("cpu", "strict"):
            ember.utils.set_random_seed(1)
            model = ember.Sequential([layers.Input((8,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
            optimizer = ember.optimizers.LossScaleOptimizer(ember.optimizers.Adam(1e-2))
            model.compile(optimizer=optimizer, loss="mse")
            histories.append(model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, device=device))
            assert model.weights[0].dtype == np.dtype(policy) and model.weights[0].device == device
    finally:
        ember.config.set_dtype_policy(previous)
    np.testing.assert_array_equal(histories[1].history["loss"], histories[0].history["loss"])


def test_fit_refuses_an_unknown_device_clearly():
    x, y = _data()
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        _model().fit(x, y, epochs=1, verbose=0, device="tpu")


# ---- benchmarks/gpu_check.sh (what can be checked without a GPU) ---------------------------------------------


def _gpu_check(*args, cwd=ROOT, env=None):
    return subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_device_check_script_parses_and_its_dry_run_lists_every_step():
    assert subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_check.sh")], timeout=30).returncode == 0
    result = _gpu_check("--dry-run", "--venv", "/tmp/v", "--wheels", "/tmp/w")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = ["GPU present", "virtualenv /tmp/v", "install Ember and CuPy", "PyTorch with CUDA", "GPU tests"]
    steps += ["benchmarks on cuda (ember,torch)", "benchmark results complete", "passed"]
    positions = [out.index(f"== gpu_check: {s}") for s in steps]
    assert positions == sorted(positions)
    assert "--no-index --find-links /tmp/w" in out and "cupy-cuda12x[ctk]" in out
    assert "EMBER_REQUIRE_GPU=1 /tmp/v/bin/python -m pytest tests/test_cuda_backend.py" in out
    assert "benchmarks/run.py --device cuda --workloads mnist_mlp,mnist_cnn,imdb_lstm,tiny_mlp" in out
    assert "benchmarks on cuda" not in _gpu_check("--dry-run", "--skip-bench").stdout


def test_device_check_script_refuses_bad_arguments_and_places(tmp_path):
    bad = _gpu_check("--bogus")
    assert bad.returncode == 2 and "unknown argument '--bogus'" in bad.stderr
    budget = _gpu_check("--budget", "5m")
    assert budget.returncode == 2 and "--budget expects whole seconds, got '5m'" in budget.stderr
    elsewhere = _gpu_check("--dry-run", cwd=tmp_path)
    assert elsewhere.returncode == 2 and "run it from the repository root" in elsewhere.stderr


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA driver")
def test_device_check_script_fails_loudly_without_a_driver():
    result = _gpu_check()
    assert result.returncode != 0
    assert "nvidia-smi not found" in result.stderr and "FAILED at step: GPU present" in result.stderr


# ---- on a GPU ---------------------------------------------------------------------------------------------


@needs_gpu
def test_gpu_tensors_move_and_come_back():
    import cupy

    t = ember.tensor([[1.0, 2.0]], device="cuda", requires_grad=True)
    assert isinstance(t.data, cupy.ndarray) and t.device == "cuda:0"
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[2.0, 4.0]])
    c = ember.tensor([3.0], requires_grad=True)
    (c.to("cuda") * 2).sum().backward()
    assert c.grad.device == "cpu" and c.grad.numpy()[0] == 2.0
    real = cuda.PinnedStager("cuda")
    out = [real.to_device(np.full((64, 3), k, np.float32)) for k in range(4)]
    assert real.allocations == 2 and all(float(o[0, 0]) == k for k, o in enumerate(out))


@needs_gpu
@pytest.mark.parametrize("x_shape,k_hw,strides,padding,dilation", CONV_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_conv2d_matches_the_cpu(x_shape, k_hw, strides, padding, dilation, dtype, rng):
    x = rng.standard_normal(x_shape)
    k = rng.standard_normal(k_hw + (x_shape[-1], 4))
    results = []
    for device in ("cpu", "cuda"):
        xt = ember.tensor(x, dtype=dtype, device=device, requires_grad=True)
        kt = ember.tensor(k, dtype=dtype, device=device, requires_grad=True)
        y = ember.conv2d(xt, kt, strides=strides, padding=padding, dilation_rate=dilation)
        (y * y).sum().backward()
        results.append([y.numpy(), xt.grad.numpy(), kt.grad.numpy()])
    tol = 1e-10 if dtype == "float64" else 1e-4
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_gpu
@pytest.mark.parametrize("x_shape,pool,strides,padding", POOL_CASES)
def test_gpu_max_pool_kernels_give_the_reference_bits(x_shape, pool, strides, padding, rng):
    import cupy

    from ember.ops._windows import pad_spatial, spatial_geometry

    x = rng.integers(-3, 4, x_shape).astype(np.float32)
    x.flat[::7] = -0.0
    x.flat[5] = np.nan
    out_hw, pads = spatial_geometry("max_pool2d", padding, x_shape[1:3], pool, strides, (1, 1))
    xpad = pad_spatial(np, x, pads, -np.inf)
    out, winner = pooling_cuda.max_pool_forward(cupy.asarray(xpad), out_hw, pool, strides)
    ref_out, ref_winner = pooling_cuda.max_pool_reference(xpad, out_hw, pool, strides)
    np.testing.assert_array_equal(out.get(), ref_out)
    np.testing.assert_array_equal(winner.get(), ref_winner)
    g = rng.standard_normal(ref_out.shape).astype(np.float32)
    gpad = pooling_cuda.max_pool_backward(cupy.asarray(g), winner, xpad.shape, pool, strides)
    ref = pooling_cuda.max_pool_backward_reference(g, ref_winner, xpad.shape, pool, strides)
    np.testing.assert_array_equal(gpad.get(), ref)


@needs_gpu
@pytest.mark.parametrize("masked,go_backwards", [(False, False), (True, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_lstm_matches_the_cpu(masked, go_backwards, dtype, rng):
    b, t, f, u = 4, 7, 5, 8
    arrays = [rng.standard_normal(s) * 0.5 for s in ((b, t, f), (b, u), (b, u), (f, 4 * u), (u, 4 * u), (4 * u,))]
    mask = (rng.random((b, t)) < 0.7) if masked else None
    results = []
    for device in ("cpu", "cuda"):
        tensors = [ember.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrays]
        m = None if mask is None else ember.tensor(mask, device=device)
        outs = ember.lstm(*tensors, mask=m, go_backwards=go_backwards)
        sum((o * o).sum() for o in outs).backward()
        results.append([o.numpy() for o in outs] + [x.grad.numpy() for x in tensors])
    tol = 1e-10 if dtype == "float64" else 2e-5
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


def _optimizer_arrays(rng, dtype, n):
    """(w, g, m or a, a non-negative slot, a non-negative slot): every square root sees a valid value."""
    w, g, m = (rng.standard_normal(n) for _ in range(3))
    second, first = rng.random(n) + 0.5, rng.random(n) + 0.5  # first >= 0.5 > (0.1 m)^2: centered RMSprop
    second[: n // 4] = first[: n // 4] * 0.5  # AMSGrad's running maximum below v for some, above for others
    return [a.astype(dtype) for a in (w, g, m * 0.1, second, first)]


def _optimizer_cases(t):
    """(GPU update, NumPy update) pairs over the arrays (w, g, slot, slot, non-negative slot)."""

    def scratch(a):
        return lambda k: np.empty_like(a)

    adam_c = tuple(t(v) for v in (1e-3, 0.9, 0.1, 0.999, 0.001, 1e-7))
    cases = []
    for ams in (False, True):
        cases.append(
            (
                lambda a, ams=ams: flat_cuda.adam(a[0], a[1], a[2], a[4], a[3] if ams else None, adam_c),
                lambda a, ams=ams: kernels.adam(a[0], a[1], a[2], a[4], a[3] if ams else None, adam_c, scratch(a[0])),
            )
        )
    for centered in (False, True):
        for mom in (0.0, 0.9):
            c = tuple(t(v) for v in (0.9, 0.1, 1e-7, 1e-3, mom))

            def slots(a, centered=centered, mom=mom):
                return a[4], (a[2] if centered else None), (a[3] if mom else None)

            cases.append(
                (
                    lambda a, c=c, slots=slots: flat_cuda.rmsprop(a[0], a[1], *slots(a), *c),
                    lambda a, c=c, slots=slots: kernels.rmsprop(a[0], a[1], *slots(a), *c, scratch(a[0])),
                )
            )
    ad = tuple(t(v) for v in (0.95, 0.05, 1e-7, 1.0))
    cases.append(
        (
            lambda a: flat_cuda.adadelta(a[0], a[1], a[4], a[3], *ad),
            lambda a: kernels.adadelta(a[0], a[1], a[4], a[3], *ad, scratch(a[0])),
        )
    )
    for mom, nesterov in ((0.0, False), (0.9, False), (0.9, True)):
        lr, m = t(0.01), t(mom)
        cases.append(
            (
                lambda a, mom=mom, n=nesterov, lr=lr, m=m: flat_cuda.sgd(a[0], a[1], a[2] if mom else None, n, lr, m),
                lambda a, mom=mom, n=nesterov, lr=lr, m=m: kernels.sgd(
                    a[0], a[1], a[2] if mom else None, n, lr, m, scratch(a[0])
                ),
            )
        )
    return cases


@needs_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_fused_optimizer_updates_match_the_numpy_path(dtype, rng):
    import cupy

    host = _optimizer_arrays(rng, dtype, 1000)
    for gpu, ref in _optimizer_cases(np.dtype(dtype).type):
        dev = [cupy.asarray(a) for a in host]
        assert gpu(dev) is True
        want = [a.copy() for a in host]
        ref(want)
        for a, b in zip(dev, want):
            np.testing.assert_allclose(a.get(), b, rtol=2e-6 if dtype == "float32" else 1e-13, atol=1e-7)


@needs_gpu
def test_gpu_fit_matches_the_cpu():
    x, y = _data()
    cpu, dev = _model(), _model()
    dev.set_weights(cpu.get_weights())
    expected = cpu.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history
    got = dev.fit(x, y, batch_size=8, epochs=2, verbose=0, device="cuda", shuffle=False).history
    assert {str(w.device) for w in dev.weights} == {"cuda:0"}
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4)
    pred = dev.predict(x[:5], verbose=0, device="cuda")
    assert type(pred) is np.ndarray
    np.testing.assert_allclose(pred, cpu.predict(x[:5], verbose=0), rtol=1e-4, atol=1e-5)
