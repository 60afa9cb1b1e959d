"""The ember command: doctor, demo, summary, predict, convert, export-onnx, plot, serve (being written)."""
