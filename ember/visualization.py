"""``ember.visualization`` (Keras's ``keras.visualization``): not built on Ember yet.

Keras draws boxes and masks into images with OpenCV and plots galleries with
matplotlib. Ember has neither drawing helper; each name raises
NotImplementedError pointing at matplotlib (``plt.imshow`` and
``matplotlib.patches.Rectangle``), which draws the same things on Ember's
NumPy images (``np.asarray(tensor)``).
"""

from __future__ import annotations

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]


def _refuse(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"keras.visualization.{name} is not available in Ember; draw with matplotlib on np.asarray(images) "
            "(plt.imshow, matplotlib.patches.Rectangle for boxes, alpha-blended imshow for masks)"
        )

    refuse.__name__ = name
    refuse.__doc__ = f"Keras's ``visualization.{name}``; raises NotImplementedError on Ember (use matplotlib)."
    return refuse


draw_bounding_boxes = _refuse("draw_bounding_boxes")
draw_segmentation_masks = _refuse("draw_segmentation_masks")
plot_bounding_box_gallery = _refuse("plot_bounding_box_gallery")
plot_image_gallery = _refuse("plot_image_gallery")
plot_segmentation_mask_gallery = _refuse("plot_segmentation_mask_gallery")
