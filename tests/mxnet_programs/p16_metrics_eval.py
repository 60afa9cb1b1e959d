"""The metrics of an evaluation loop: Accuracy, TopKAccuracy, F1, MAE, MSE, RMSE, CrossEntropy."""

import numpy as np


def main(mx):
    nd = mx.nd
    rng = np.random.default_rng(17)
    out = {}
    acc, top2, ce = mx.metric.Accuracy(), mx.metric.TopKAccuracy(top_k=2), mx.metric.CrossEntropy()
    f1 = mx.metric.F1()
    mae, mse, rmse = mx.metric.MAE(), mx.metric.MSE(), mx.metric.RMSE()
    for _ in range(3):
        logits = rng.normal(size=(8, 4)).astype("float32")
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        labels = rng.integers(0, 4, size=8).astype("float32")
        acc.update(preds=nd.array(probs), labels=nd.array(labels))
        top2.update(labels=[nd.array(labels)], preds=[nd.array(probs)])
        ce.update(nd.array(labels), nd.array(probs))
        bin_pred = rng.uniform(size=(8, 2)).astype("float32")
        f1.update(nd.array(rng.integers(0, 2, size=8)), nd.array(bin_pred))
        target = rng.normal(size=(8,)).astype("float32")
        pred = rng.normal(size=(8,)).astype("float32")
        for m in (mae, mse, rmse):
            m.update(nd.array(target), nd.array(pred))
    for m in (acc, top2, ce, f1, mae, mse, rmse):
        name, value = m.get()
        out[name] = float(value)
    return out
