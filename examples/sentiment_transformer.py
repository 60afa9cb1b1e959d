"""Sentiment analysis of IMDB reviews with a small transformer encoder.

Token and position embeddings (32 each way, learned), one transformer block (2-head self-attention with a
residual and layer normalization, then a 2-layer feed-forward with its own residual and normalization),
global average pooling over the words, and a softmax over positive/negative. Both the block and the
embedding are custom layers, as Keras programs write them. Reports test accuracy and draws the curves
(``sentiment_transformer.png``).
"""

from __future__ import annotations

import ember as keras
from ember import layers, ops


class TransformerBlock(layers.Layer):
    """Self-attention and a feed-forward network, each added to its input and normalized: (b, t, d) -> (b, t, d)."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.feed_forward = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.norm1 = layers.LayerNormalization(epsilon=1e-6)
        self.norm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1, self.dropout2 = layers.Dropout(rate), layers.Dropout(rate)

    def call(self, inputs, training=False):
        attended = self.dropout1(self.attention(inputs, inputs), training=training)
        h = self.norm1(inputs + attended)
        return self.norm2(h + self.dropout2(self.feed_forward(h), training=training))


class TokenAndPositionEmbedding(layers.Layer):
    """Word index -> embedding, plus a learned embedding of the word's position: (b, t) -> (b, t, d)."""

    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = layers.Embedding(maxlen, embed_dim)

    def call(self, x):
        positions = ops.arange(0, ops.shape(x)[-1], 1)
        return self.token_emb(x) + self.pos_emb(positions)


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path
    from sentiment_bilstm import load

    from ember.utils.plots import plot_history

    keras.utils.set_random_seed(0)
    vocab, maxlen = 20_000, (100 if quick else 200)
    (x_train, y_train), (x_test, y_test) = load(vocab, maxlen, 2000 if quick else None, 1000 if quick else None)
    inputs = keras.Input((maxlen,), dtype="int32")
    h = TokenAndPositionEmbedding(maxlen, vocab, 32)(inputs)
    h = TransformerBlock(32, 2, 32)(h)
    h = layers.GlobalAveragePooling1D()(h)
    h = layers.Dropout(0.1)(h)
    h = layers.Dense(20, activation="relu")(h)
    h = layers.Dropout(0.1)(h)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=3 if quick else 2, validation_split=0.2, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f}")
    plot_history(history, to_file=figure_path(out, "sentiment_transformer.png"))
    return {"test_accuracy": float(accuracy), "test_loss": float(loss)}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
