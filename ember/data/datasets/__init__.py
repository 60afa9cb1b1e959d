"""Dataset loaders with Keras's signatures (``mnist.load_data()`` and friends)."""
