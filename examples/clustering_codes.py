"""Clustering on an autoencoder's codes: k-means on 10-D codes of MNIST against k-means on raw pixels.

The dense autoencoder of ``autoencoder_dense.py`` with a 10-number code learns, without labels, a map in which
k-means (scikit-learn, k = 10) groups digits; the clusters are then scored against the true digits with the
adjusted Rand index and purity (the share of each cluster's majority digit). Raw-pixel k-means is the baseline.
"""

from __future__ import annotations

import numpy as np

import ember as keras


def purity(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Share of samples whose cluster's most common true label is their own."""
    hits = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(hits / len(labels))


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import mnist_images
    from autoencoder_dense import build
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, y_test) = mnist_images(6000 if quick else None, 2000 if quick else None)
    autoencoder, encoder = build(code_size=10)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.fit(x_train, x_train, epochs=4 if quick else 20, batch_size=128, verbose=2)
    codes = encoder.predict(x_test, verbose=0)
    on_codes = KMeans(10, n_init=10, random_state=0).fit_predict(codes)
    on_pixels = KMeans(10, n_init=10, random_state=0).fit_predict(x_test)
    result = {
        "ari_codes": float(adjusted_rand_score(y_test, on_codes)),
        "ari_pixels": float(adjusted_rand_score(y_test, on_pixels)),
        "purity_codes": purity(y_test, on_codes),
        "purity_pixels": purity(y_test, on_pixels),
    }
    print("k-means on the codes:  ARI {ari_codes:.3f}, purity {purity_codes:.3f}".format(**result))
    print("k-means on the pixels: ARI {ari_pixels:.3f}, purity {purity_pixels:.3f}".format(**result))
    return result


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
