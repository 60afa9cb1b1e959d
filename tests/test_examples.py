"""Every example in examples/ runs with quick=True (a small slice, few epochs) and reaches a floor.

The floors are set below what the quick runs reach (noted beside each) and well above what an untrained or
broken program gives (chance level, or the trivial baseline each example reports itself). The full runs and
their figures are in examples/README.md. Examples that take more than ~10 s on a quiet 2-core machine are
marked ``slow`` (``pytest -m "not slow"`` leaves them out; CI runs them).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def run_example(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def run(name):
        module = importlib.import_module(name)
        return module.main(quick=True, out=str(tmp_path))

    yield run
    for name in [m for m in sys.modules if getattr(sys.modules[m], "__file__", None) or ""]:
        if str(getattr(sys.modules[name], "__file__", "")).startswith(str(EXAMPLES)):
            del sys.modules[name]


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_raw_mlp_with_the_seeds_settings(run_example):
    result = run_example("raw_mlp_seed")
    assert result["test_accuracy"] >= 0.9  # 0.96 after 2 epochs; chance is about 0.4 (the largest class)


@pytest.mark.slow
def test_kfold_cross_validation_reports_every_fold(run_example, capsys):
    pytest.importorskip("sklearn", reason="the k-fold example splits with scikit-learn's KFold")
    result = run_example("mnist_kfold")
    assert len(result["scores"]) == 3 and min(result["scores"]) >= 0.75  # 0.857-0.883 on 3,000 images; chance 0.1
    printed = capsys.readouterr().out
    assert printed.count("> fold ") == 3 and "fold 3/3  epoch 2/2" in printed and "s left]" in printed
    assert _is_png(result["figure"])


@pytest.mark.slow
def test_elm_against_a_trained_mlp(run_example):
    result = run_example("elm")
    assert result["elm_accuracy"] >= 0.75 and result["mlp_accuracy"] >= 0.75  # 0.82 and 0.86; chance 0.1


@pytest.mark.slow
def test_som_orders_the_digits(run_example):
    pytest.importorskip("sklearn", reason="the SOM example reads scikit-learn's digits")
    result = run_example("som")
    assert result["quantization_error"] < 0.9 * result["quantization_error_before"]  # 1.58 -> 1.27
    assert result["accuracy"] >= 0.8 and _is_png(result["figure"])  # 0.94


@pytest.mark.slow
def test_dqn_learns_to_balance(run_example):
    pytest.importorskip("gymnasium", reason="the DQN example needs gymnasium's CartPole")
    result = run_example("dqn_cartpole")
    assert result["greedy_return"] >= 40  # 182 after 60 episodes; a random policy lasts about 22 steps
    assert _is_png(result["figure"])


@pytest.mark.slow
def test_dense_autoencoder_beats_the_mean_image(run_example):
    result = run_example("autoencoder_dense")
    assert result["mse"] < 0.95 * result["mean_image_mse"]  # 0.058 against 0.065 with a 2-number code
    assert _is_png(result["figure"])


@pytest.mark.slow
def test_conv_autoencoder_reconstructs(run_example):
    pytest.importorskip("sklearn", reason="the example compares with scikit-learn's PCA")
    result = run_example("autoencoder_conv")
    assert result["mse"] < 0.05 and _is_png(result["figure"])  # 0.034; the mean image gives about 0.067


@pytest.mark.slow
def test_denoising_autoencoder_removes_noise(run_example):
    result = run_example("autoencoder_denoising")
    assert result["psnr_denoised"] > result["psnr_noisy"] + 3.0 and _is_png(result["figure"])


@pytest.mark.slow
def test_clustering_on_codes(run_example):
    pytest.importorskip("sklearn", reason="the example clusters with scikit-learn's KMeans")
    result = run_example("clustering_codes")
    assert result["ari_codes"] > 0.1  # 0.19 after 4 epochs (0 is chance)


@pytest.mark.slow
def test_bidirectional_lstm_sentiment(run_example):
    result = run_example("sentiment_bilstm")
    assert result["test_accuracy"] >= 0.65  # 0.78 on 2,000 reviews; chance 0.5


@pytest.mark.slow
def test_vae_learns_to_reconstruct(run_example):
    result = run_example("vae")
    assert result["reconstruction_loss"] < 0.95 * result["first_reconstruction_loss"]  # 189 after 210 at epoch 1
    assert result["reconstruction_loss"] < 220 and 0 < result["kl_loss"] < 50 and _is_png(result["figure"])


@pytest.mark.slow
def test_dcgan_keras3_way_learns_the_digits_brightness(run_example):
    result = run_example("dcgan")
    assert result["brightness_gap"] < 0.9 * result["brightness_gap_before"]  # 0.372 -> 0.314 after 32 steps
    assert _is_png(result["figure"])


@pytest.mark.slow
def test_dcgan_classic_keras2_way_learns_the_digits_brightness(run_example):
    result = run_example("dcgan_classic")
    assert result["brightness_gap"] < 0.9 * result["brightness_gap_before"]  # 0.374 -> 0.314 after 32 steps
    assert _is_png(result["figure"])


@pytest.mark.slow
def test_transformer_sentiment(run_example):
    result = run_example("sentiment_transformer")
    assert result["test_accuracy"] >= 0.65  # 0.77 on 2,000 reviews; chance 0.5


def test_every_example_has_a_test():
    tested = {
        line.split('run_example("')[1].split('"')[0]
        for line in Path(__file__).read_text().splitlines()
        if 'run_example("' in line and "def " not in line
    }
    programs = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    programs -= {"mnist_mlp", "linear_y2x"}  # the README demo (tests/test_cli.py) and the engine-only seed
    assert programs <= tested, f"examples without a test: {sorted(programs - tested)}"
    assert os.path.isdir(EXAMPLES / "seeds")
