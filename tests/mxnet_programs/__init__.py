"""Small Gluon programs run twice: on real MXNet 1.9.1 (tests/fixtures/make_mxnet_fixtures.py records their
numbers) and on ``ember.mxnet`` (tests/test_mxnet_programs.py compares). Each module has ``main(mx)`` that takes
the MXNet module (real or Ember's) and returns a dict of floats / lists; weights come from ``_util.seed_params``
(NumPy's generator), so both frameworks start from the same numbers."""

PROGRAMS = [
    "p01_mlp_sgd",
    "p02_mlp_block_adam",
    "p03_cnn_conv2d",
    "p04_conv1d_pool",
    "p05_batchnorm_train",
    "p06_custom_block",
    "p07_custom_loss",
    "p08_dataloader_pipeline",
    "p09_checkpoint_roundtrip",
    "p10_l2_regression",
    "p11_sigmoid_bce",
    "p12_embedding_bag",
    "p13_hybrid_forward",
    "p14_raw_ndarray_mlp",
    "p15_rmsprop_adagrad",
    "p16_metrics_eval",
    "p17_autograd_grad",
    "p18_lstm_sequence",
    "p19_gru_regression",
    "p20_more_optimizers",
    "p21_grouped_cnn_hybrid",
    "p22_schedules_clipping",
]
