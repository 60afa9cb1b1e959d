"""A small transformer encoder: token + position embeddings (a custom layer), MultiHeadAttention, LayerNorm, FFN."""

from _support import last, token_sequences

EXPECT = {"accuracy": ("at_least", 0.75), "test_accuracy": ("at_least", 0.75)}


def main(keras):
    layers, ops = keras.layers, keras.ops

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(vocab_size, embed_dim)
            self.pos_emb = layers.Embedding(maxlen, embed_dim)

        def call(self, x):
            positions = ops.arange(0, ops.shape(x)[-1], 1)
            return self.token_emb(x) + self.pos_emb(positions)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.norm1 = layers.LayerNormalization(epsilon=1e-6)
            self.norm2 = layers.LayerNormalization(epsilon=1e-6)
            self.drop1 = layers.Dropout(rate)
            self.drop2 = layers.Dropout(rate)

        def call(self, inputs, training=False):
            attn = self.drop1(self.att(inputs, inputs), training=training)
            out1 = self.norm1(inputs + attn)
            ffn = self.drop2(self.ffn(out1), training=training)
            return self.norm2(out1 + ffn)

    keras.utils.set_random_seed(32)
    x, y = token_sequences(320, length=10, vocab=20, seed=32)
    inputs = layers.Input(shape=(10,))
    h = TokenAndPositionEmbedding(10, 20, 16)(inputs)
    h = TransformerBlock(16, 2, 32)(h)
    h = layers.GlobalAveragePooling1D()(h)
    outputs = layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:256], y[:256], batch_size=32, epochs=6, verbose=0)
    _, test_accuracy = model.evaluate(x[256:], y[256:], verbose=0)
    return {"accuracy": last(history, "accuracy"), "test_accuracy": float(test_accuracy)}
