"""Training-time augmentation as one Keras layer of ``keras.ops``, inside the compiled step.

Why not Keras's preprocessing layers: ``RandomFlip`` and ``RandomTranslation`` in a model
make it non-jittable on JAX; Keras silently falls back to ``jit_compile=False`` and training
ran more than 100x slower (DESIGN). Everything here is a fixed-shape tensor expression of the
batch (masks, ``where``, two small batched matrix products), so XLA, TensorFlow's graph and
PyTorch all keep it in the step, on the device. At inference the layer is the identity.

Imports Keras at the top; only ``KerasPipeline`` imports it, when it builds a model.
"""

from __future__ import annotations

import math

from ._backend import keras

# through the quiet import: ``from keras import ops`` first would print the backend's
# start-up noise whenever this module is the first to load Keras (``--describe``)
ops = keras.ops

AUGMENTATIONS = ("translate", "flip", "erase")

# Random erasing's ranges, as Zhong et al. ("Random Erasing Data Augmentation", AAAI 2020)
# use them: the erased area 2-40% of the image, its aspect ratio between 0.3 and 1/0.3, filled
# with uniform noise
ERASE_AREA = (0.02, 0.4)
ERASE_ASPECT = 0.3


class TrainingAugmentation(keras.layers.Layer):
    """Per image of a training batch, in this order:

    - ``translate``: a shift by up to ``translate_pixels`` in each direction with zeros coming
      in (pad-and-crop), as a product with two one-hot shift matrices;
    - ``flip``: a horizontal mirror image, for half the images;
    - ``erase``: with ``erase_probability``, a random rectangle replaced by uniform noise.
    Seeded by its own ``SeedGenerator``, whose state is a model variable (so a checkpoint
    restores the random stream with the weights).
    """

    def __init__(self, augment=AUGMENTATIONS, translate_pixels: int = 2,
                 erase_probability: float = 0.5, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        unknown = set(augment) - set(AUGMENTATIONS)
        if unknown:
            raise ValueError(f"unknown augmentation {sorted(unknown)}; known: "
                             f"{', '.join(AUGMENTATIONS)}")
        self.augment = tuple(augment)
        self.translate_pixels = int(translate_pixels)
        self.erase_probability = float(erase_probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        if "translate" in self.augment and self.translate_pixels > 0:
            images = self._translate(images)
        if "flip" in self.augment:
            mirrored = keras.random.uniform((ops.shape(images)[0], 1, 1, 1),
                                            seed=self.seed_generator) < 0.5
            images = ops.where(mirrored, ops.flip(images, axis=2), images)
        if "erase" in self.augment and self.erase_probability > 0:
            images = self._erase(images)
        return images

    def _shift_matrices(self, shifts, size: int):
        """One (size x size) matrix per image with ones at (i, i - shift): a product with it
        moves rows (or columns) by ``shift``, and what moves out is gone."""
        positions = ops.arange(size, dtype="int32")
        return ops.equal(positions[None, None, :],
                         positions[None, :, None] - shifts[:, None, None])

    def _translate(self, images):
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        shifts = keras.random.randint((count, 2), -self.translate_pixels,
                                      self.translate_pixels + 1, seed=self.seed_generator,
                                      dtype="int32")
        rows = ops.cast(self._shift_matrices(shifts[:, 0], height), images.dtype)
        columns = ops.cast(self._shift_matrices(shifts[:, 1], width), images.dtype)
        return ops.einsum("nij,njlc,nkl->nikc", rows, images, columns)

    def _erase(self, images):
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]

        def uniform(low: float, high: float):
            return keras.random.uniform((count,), low, high, seed=self.seed_generator)

        area = uniform(*ERASE_AREA) * (height * width)
        aspect = ops.exp(uniform(math.log(ERASE_ASPECT), -math.log(ERASE_ASPECT)))
        erased_height = ops.minimum(ops.sqrt(area * aspect), float(height))
        erased_width = ops.minimum(ops.sqrt(area / aspect), float(width))
        top = uniform(0.0, 1.0) * (height - erased_height)
        left = uniform(0.0, 1.0) * (width - erased_width)
        rows = ops.arange(height, dtype="float32")[None, :]
        columns = ops.arange(width, dtype="float32")[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + erased_height)[:, None])
        in_columns = (columns >= left[:, None]) & (columns < (left + erased_width)[:, None])
        chosen = uniform(0.0, 1.0) < self.erase_probability
        mask = in_rows[:, :, None] & in_columns[:, None, :] & chosen[:, None, None]
        noise = keras.random.uniform(ops.shape(images), dtype=images.dtype,
                                     seed=self.seed_generator)
        return ops.where(mask[..., None], noise, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "augment": list(self.augment),
                "translate_pixels": self.translate_pixels,
                "erase_probability": self.erase_probability, "seed": self.seed}
