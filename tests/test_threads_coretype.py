"""OPENBLAS_CORETYPE at ``import ember`` (ember/backend/blas_coretype.py): decided from faked facts, and for real."""

import os
import subprocess
import sys

import pytest

from ember.backend import blas_coretype

SKYLAKE_FLAGS = "fpu sse4_2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl"
BUNDLED = "/site-packages/numpy.libs/libscipy_openblas64_-abc.so"


def _cpuinfo(flags, vendor="GenuineIntel"):
    return f"processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n"


def test_an_avx512_cpu_with_numpys_openblas_gets_skylakex():
    value, why = blas_coretype.decide({}, False, _cpuinfo(SKYLAKE_FLAGS), BUNDLED)
    assert value == "SkylakeX" and "before NumPy loaded" in why


def test_zen4_like_cpus_with_bf16_get_it_too():
    value, _ = blas_coretype.decide({}, False, _cpuinfo(SKYLAKE_FLAGS + " avx512_bf16", "AuthenticAMD"), BUNDLED)
    assert value == "SkylakeX"


@pytest.mark.parametrize(
    "flags, missing",
    [
        ("fpu sse4_2 avx avx2 fma", "avx512f"),  # no AVX-512 at all: never set (illegal instruction otherwise)
        ("avx2 avx512f avx512cd avx512er avx512pf", "avx512bw"),  # Knights Landing: AVX-512F without BW/DQ/VL
    ],
)
def test_never_on_a_cpu_without_the_kernels_instructions(flags, missing):
    value, why = blas_coretype.decide({}, False, _cpuinfo(flags), BUNDLED)
    assert value is None and missing in why


def test_an_arm_cpu_is_left_alone():
    text = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes sve\n"
    assert blas_coretype.cpu_flags(text) == {"fp", "asimd", "evtstrm", "aes", "sve"}
    value, why = blas_coretype.decide({}, False, text, BUNDLED)
    assert value is None and "avx512f" in why


@pytest.mark.parametrize(
    "environ, numpy_loaded, cpuinfo, bundled, reason",
    [
        ({"OPENBLAS_CORETYPE": "Haswell"}, False, _cpuinfo(SKYLAKE_FLAGS), BUNDLED, "set by the user"),
        ({"EMBER_OPENBLAS_CORETYPE": "0"}, False, _cpuinfo(SKYLAKE_FLAGS), BUNDLED, "EMBER_OPENBLAS_CORETYPE=0"),
        ({}, True, _cpuinfo(SKYLAKE_FLAGS), BUNDLED, "NumPy was imported before Ember"),
        ({}, False, _cpuinfo(SKYLAKE_FLAGS), None, "does not bundle OpenBLAS"),
        ({}, False, None, BUNDLED, "no /proc/cpuinfo"),
        ({}, False, "processor : 0\n", BUNDLED, "no /proc/cpuinfo"),
    ],
)
def test_otherwise_nothing_is_set_and_the_reason_is_kept(environ, numpy_loaded, cpuinfo, bundled, reason):
    value, why = blas_coretype.decide(environ, numpy_loaded, cpuinfo, bundled)
    assert value is None and reason in why


def _fresh_python(code, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "EMBER_OPENBLAS_CORETYPE")}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("|"), out.stderr


REPORT = (
    "import os, ember\nfrom ember.backend import blas_coretype as b\n"
    "print(os.environ.get('OPENBLAS_CORETYPE'), b.DECISION['set'], b.DECISION['why'], sep='|')"
)


def test_import_ember_in_a_fresh_process_follows_the_decision():
    (now, decided, why), stderr = _fresh_python(REPORT)
    expected, _ = blas_coretype.decide(
        {}, False, blas_coretype._read_cpuinfo(), blas_coretype.numpy_bundled_openblas()
    )  # this machine's facts
    assert decided == str(expected) and now == str(expected)
    assert stderr == ""  # nothing printed (OpenBLAS prints "Core not found" for a name it lacks)


def test_numpy_first_or_a_users_value_is_never_changed():
    (now, decided, why), _ = _fresh_python("import numpy\n" + REPORT)
    assert (now, decided) == ("None", "None") and "NumPy was imported before Ember" in why
    (now, decided, why), _ = _fresh_python(REPORT, OPENBLAS_CORETYPE="Haswell")
    assert (now, decided) == ("Haswell", "None")
    (now, decided, why), _ = _fresh_python(REPORT, EMBER_OPENBLAS_CORETYPE="off")
    assert (now, decided) == ("None", "None")
