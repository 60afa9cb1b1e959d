"""``TensorBoard``: write training logs as TensorBoard event files.

Event files are written with the ``tensorboard`` package's own
``EventFileWriter`` and its summary protobufs (``pip install tensorboard``, the
``viz`` extra); nothing else from TensorFlow is needed, and ``import ember``
does not import ``tensorboard`` (the callback imports it when it is created).

The layout and the tags are Keras 3's, so a TensorBoard pointed at ``log_dir``
shows the same runs and charts as for a Keras model:

- ``log_dir/train``: ``epoch_<metric>`` per epoch (with ``epoch_learning_rate``
  and, with ``write_steps_per_second``, ``epoch_steps_per_second``);
  ``batch_<metric>`` per training batch when ``update_freq`` is ``'batch'`` or
  an int; ``<weight path>/histogram`` (Keras's path: ``sequential/dense/kernel`` in a
  Sequential model, ``dense/kernel`` in a functional one) every ``histogram_freq`` epochs (and
  ``<weight path>/image`` with ``write_images``); the model graph.
- ``log_dir/validation``: ``epoch_<metric>`` for the ``val_`` metrics and
  ``evaluation_<metric>_vs_iterations`` at the end of each evaluation.

Scalars and histograms are stored in TensorBoard's current (tensor) format, as
``tf.summary`` writes them: read them back with
``tensorboard.backend.event_processing.plugin_event_accumulator.EventAccumulator``
(``Tensors(tag)``), or open TensorBoard on ``log_dir``.
"""

from __future__ import annotations

import os
import struct
import time
import warnings
import zlib

import numpy as np  # host-side only: summaries are built from copies of the values

from .callback import Callback


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "ember.callbacks.TensorBoard needs the `tensorboard` package to write event files. "
            "Install it with `pip install tensorboard` (or `pip install ember[viz]`)."
        ) from exc


def _to_numpy(value) -> np.ndarray:
    """A host NumPy copy of a number, array, Ember Tensor or Variable."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    elif hasattr(value, "data") and hasattr(value, "device"):
        value = value.data
    if hasattr(value, "get"):  # a CuPy array
        value = value.get()
    return np.asarray(value)


def _scalar(value):
    """``value`` as a Python float, or ``None`` when it is not a single number."""
    try:
        arr = _to_numpy(value)
    except Exception:
        return None
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        return None
    return float(arr.reshape(()))


def _png(image: np.ndarray) -> bytes:
    """A PNG file holding ``image`` (uint8, shape ``(h, w, c)`` with c in 1, 3, 4)."""
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + image[r].tobytes() for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _weight_image(weight: np.ndarray):
    """A weight as a batch of grey images ``(k, h, w, 1)`` as Keras draws it, or ``None`` if it has no picture."""
    w = np.squeeze(weight)
    if w.ndim == 1:  # a bias: one row
        w = w.reshape(1, 1, w.shape[0], 1)
    elif w.ndim == 2:  # a dense kernel: the longer side across
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:  # a 1D/2D conv kernel (channels last): one picture per channel
        w = np.transpose(w, (2, 0, 1))
        w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
    else:
        return None
    return w


class TensorBoard(Callback):
    """Writes TensorBoard logs: metrics per epoch or batch, weight histograms, the model graph.

    Run ``tensorboard --logdir=<log_dir>`` to see them. The files are written
    with the ``tensorboard`` package (install ``tensorboard``); directories and
    tags follow Keras 3 (see the module docstring).

    Args:
        log_dir: the directory of the run; event files go to ``log_dir/train``
            and ``log_dir/validation``.
        histogram_freq: every how many epochs to write a histogram of each
            weight of each layer (0: never).
        write_graph: write the model's layer graph (a ``GraphDef`` with one node
            per layer, its type and output shape; plus the model's JSON config
            under the ``keras`` tag, which TensorBoard draws as a conceptual graph).
        write_images: with ``histogram_freq``, also write each weight as an image.
        write_steps_per_second: also write training steps per second, per
            epoch (``epoch_steps_per_second``) and per logged batch
            (``batch_steps_per_second``).
        update_freq: ``'epoch'`` (metrics once per epoch), ``'batch'`` (also the
            running metrics after every training batch) or an int ``N`` (after
            every N-th training batch, counted across epochs from 1).
        profile_batch: must be 0: Ember has no profiler to trace batches with.
        embeddings_freq: every how many epochs to save the weights of the
            model's ``Embedding`` layers for TensorBoard's projector
            (``train/keras_embedding.ckpt-<epoch>.weights.h5``; 0: never).
        embeddings_metadata: a metadata file path for every embedding, or a
            dict from an ``Embedding`` layer's name to its metadata file.

    Example:
        >>> tb = TensorBoard(log_dir="./logs", histogram_freq=1)
        >>> model.fit(x, y, epochs=5, callbacks=[tb])  # then: tensorboard --logdir ./logs
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        _require_tensorboard()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, got {update_freq!r}"
            )
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        if profile_batch not in (0, "0", None, (0, 0), [0, 0]):
            raise ValueError(
                "TensorBoard: profiling is not available in Ember (there is no batch profiler to start). "
                f"Expected profile_batch=0, received profile_batch={profile_batch!r}"
            )
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._writers = {}
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")

    # ---- writers ---------------------------------------------------------------------

    def _writer(self, which: str):
        """The event-file writer of ``'train'`` or ``'validation'``, created on first use."""
        writer = self._writers.get(which)
        if writer is None:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter

            writer = EventFileWriter(self._train_dir if which == "train" else self._val_dir)
            self._writers[which] = writer
        return writer

    def _emit(self, which: str, summary, step: int) -> None:
        from tensorboard.compat.proto import event_pb2

        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(which).add_event(event)

    def _scalar(self, which: str, tag: str, value, step: int) -> None:
        number = _scalar(value)
        if number is None:  # Keras logs may hold non-scalars (e.g. predict outputs); they have no chart
            return
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        self._emit(which, scalar_pb(tag, np.float32(number)), step)

    def _flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ---- set-up ----------------------------------------------------------------------

    def set_model(self, model):
        """Store the model; write its graph when ``write_graph``."""
        super().set_model(model)
        self._writers = {}
        if self.write_graph:
            self._write_graph()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _write_graph(self) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.util import tensor_util

        model = self.model
        graph = _layer_graph_def(model)
        if graph is not None:
            self._writer("train").add_event(
                event_pb2.Event(wall_time=time.time(), step=0, graph_def=graph.SerializeToString())
            )
        try:
            config = model.to_json()
        except Exception as exc:  # a model without a config still trains; the graph above is kept
            warnings.warn(
                f"TensorBoard: model '{getattr(model, 'name', '?')}' could not be serialized to JSON, "
                f"so its conceptual graph is not written: {exc}",
                stacklevel=2,
            )
            config = None
        if config is not None:
            metadata = summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1")
            )
            summary = summary_pb2.Summary()
            summary.value.add(
                tag="keras",
                metadata=metadata,
                tensor=tensor_util.make_tensor_proto(np.array(config.encode("utf-8"), dtype=object)),
            )
            self._emit("train", summary, 0)
        self._flush()

    def _embedding_layers(self) -> list:
        from ..layers.embedding.embedding import Embedding

        return [layer for layer in getattr(self.model, "layers", []) if isinstance(layer, Embedding)]

    def _configure_embeddings(self) -> None:
        from google.protobuf import text_format
        from tensorboard.plugins.projector import projector_config_pb2

        config = projector_config_pb2.ProjectorConfig()
        metadata = self.embeddings_metadata
        pending = dict(metadata) if isinstance(metadata, dict) else None
        for layer in self._embedding_layers():
            embedding = config.embeddings.add()
            embedding.tensor_name = f"{layer.name}/embeddings"
            if isinstance(metadata, str):
                embedding.metadata_path = metadata
            elif pending is not None and layer.name in pending:
                embedding.metadata_path = pending.pop(layer.name)
        if pending:
            raise ValueError(
                "TensorBoard: embeddings_metadata names layers that are not Embedding layers of model "
                f"'{self.model.name}': {sorted(pending)}; its Embedding layers are "
                f"{[layer.name for layer in self._embedding_layers()]}"
            )
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
            f.write(text_format.MessageToString(config))

    # ---- hooks -----------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        step = int(_to_numpy(optimizer.iterations))
        for name, value in logs.items():
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value, step)
        self._flush()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start_time
            if elapsed > 0:
                self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                self._scalar("train", f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = self._iterations()
            self._epoch_start_time = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)
        self._flush()

    # ---- what is written -------------------------------------------------------------

    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations"):
            return self._global_train_batch
        return int(_to_numpy(optimizer.iterations))

    def _learning_rates(self) -> dict:
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        if hasattr(optimizer, "optimizers"):
            rates = {f"learning_rate_{opt.name}": _scalar(opt.learning_rate) for opt in optimizer.optimizers}
        elif hasattr(optimizer, "learning_rate"):
            rates = {"learning_rate": _scalar(optimizer.learning_rate)}
        else:
            rates = {}
        return {name: rate for name, rate in rates.items() if rate is not None}

    def _log_epoch_metrics(self, epoch, logs) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train_logs.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start_time
            steps = self._iterations() - self._previous_epoch_iterations
            if elapsed > 0:
                train_logs["steps_per_second"] = steps / elapsed
        for name, value in train_logs.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in val_logs.items():
            self._scalar("validation", f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch) -> None:
        from tensorboard.plugins.histogram.summary_v2 import histogram_pb

        for layer in self.model.layers:
            for weight in layer.weights:
                name = _weight_tag(self.model, weight)
                values = _to_numpy(weight)
                self._emit("train", histogram_pb(f"{name}/histogram", values), epoch)
                if self.write_images:
                    self._log_weight_as_image(values, f"{name}/image", epoch)

    def _log_weight_as_image(self, values: np.ndarray, tag: str, epoch: int) -> None:
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.image import metadata as image_metadata
        from tensorboard.util import tensor_util

        images = _weight_image(values.astype(np.float64))
        if images is None:  # 3D conv kernels and beyond have no picture, as in Keras
            return
        low, high = float(images.min()), float(images.max())
        scaled = (images - low) / (high - low) * 255.0 if high > low else np.zeros_like(images)
        pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        height, width = pixels.shape[1], pixels.shape[2]
        content = [str(width).encode(), str(height).encode()] + [_png(img) for img in pixels[:3]]
        summary = summary_pb2.Summary()
        summary.value.add(
            tag=tag,
            metadata=image_metadata.create_summary_metadata(display_name=None, description=None),
            tensor=tensor_util.make_tensor_proto(np.array(content, dtype=object)),
        )
        self._emit("train", summary, epoch)

    def _log_embeddings(self, epoch) -> None:
        path = os.path.join(self.log_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.model.save_weights(path)


def _weight_tag(model, weight) -> str:
    """The weight's path as Keras 3 names it (a Sequential model builds its layers in its own name scope)."""
    path = getattr(weight, "path", None) or weight.name
    if type(model).__name__ == "Sequential" and not path.startswith(f"{model.name}/"):
        path = f"{model.name}/{path}"
    return path.replace(":", "_")


def _layer_graph_def(model):
    """A ``GraphDef`` with one node per layer (op: the layer's class) and one input edge per connection."""
    from tensorboard.compat.proto import attr_value_pb2, graph_pb2, tensor_shape_pb2

    from ..utils.model_visualization import _layers_and_edges

    try:
        layers, edges = _layers_and_edges(model)
    except Exception:  # a model whose graph cannot be walked gets no graph, never a failed fit
        return None
    graph = graph_pb2.GraphDef()
    nodes = {}
    for layer in layers:
        node = graph.node.add()
        node.name = layer.name
        node.op = type(layer).__name__
        shape = _output_shape(model, layer)
        if shape is not None:
            proto = tensor_shape_pb2.TensorShapeProto()
            for size in shape:
                proto.dim.add(size=-1 if size is None else int(size))
            node.attr["_output_shapes"].CopyFrom(
                attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(shape=[proto]))
            )
        dtype = getattr(layer, "dtype", None)
        if dtype is not None:
            node.attr["dtype"].CopyFrom(attr_value_pb2.AttrValue(s=str(dtype).encode()))
        nodes[id(layer)] = node
    for src, dst in edges:
        if id(src) in nodes and id(dst) in nodes:
            nodes[id(dst)].input.append(src.name)
    return graph


def _output_shape(model, layer):
    """The output shape of ``layer`` within ``model`` (batch as ``None``), or ``None`` when unknown."""
    from ..utils.model_visualization import _layer_node

    try:
        node = _layer_node(model, layer)
    except Exception:
        node = None
    if node is not None:
        outputs = [t for t in node.flat_outputs if hasattr(t, "shape")]
        if outputs:
            return tuple(outputs[0].shape)
    shapes = getattr(layer, "_first_output_shapes", None)
    if shapes:
        return tuple(shapes[0])
    batch_shape = getattr(layer, "batch_shape", None)
    return tuple(batch_shape) if batch_shape is not None else None
