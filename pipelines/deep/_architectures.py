"""The deep zoo's networks, rebuilt layer by layer from the seed reports.

Imports Keras at the top, so only ``KerasPipeline`` imports this module, when it builds a
model. Every builder takes the input shape (H, W, 1) and the class count and returns an
uncompiled ``keras.Model`` whose last layer is a float32 softmax (under a mixed-precision
policy the rest of the network computes in bfloat16, the probabilities do not).

Input sizes other than 28 x 28: a network runs on the images as they are when its valid
convolutions and poolings leave at least one pixel (``MIN_SIZE``); smaller images (the 8 x 8
digits) are resized inside the model to the 28 x 28 the seed designed it for. The ImageNet
networks always see 32 x 32 x 3: 28 x 28 is zero-padded by 2 (no interpolation), any other
size is resized, and the grey channel is repeated three times, all inside the model so
predict takes the same arrays as fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._backend import keras
from .network_settings import SEED003_BASELINE, VGG16_DEFAULT_HEAD, VGG16_HEADS

# through the quiet import: ``from keras import layers`` first would print the backend's
# start-up noise whenever this module is the first to load Keras (``--describe``)
layers = keras.layers

SEED_SIZE = 28  # the size every seed designed its network for
IMAGENET_SIZE = 32  # the smallest input keras.applications.VGG16 / ResNet50 accept


@dataclass(frozen=True)
class Architecture:
    """A builder and the facts describe() reports about it."""

    build: Callable[[tuple[int, int, int], int], keras.Model]
    source: str
    min_size: int  # smaller inputs are resized to SEED_SIZE inside the model
    expected_parameters: int | None  # on 28 x 28 x 1 with 10 classes, as the seed states


def _softmax(n_classes: int) -> layers.Layer:
    # float32 whatever the global policy: bf16 probabilities would round log-loss and ties
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")


def _resized_to_at_least(inputs, min_size: int):
    height, width = inputs.shape[1], inputs.shape[2]
    if height >= min_size and width >= min_size:
        return inputs
    return layers.Resizing(SEED_SIZE, SEED_SIZE, interpolation="bilinear",
                           name="resize_to_seed_size")(inputs)


def _imagenet_input(inputs):
    """N x H x W x 1 (or x 3) in [0, 1] to N x 32 x 32 x 3, inside the model (jittable layers
    only): grey images are repeated into the three channels, colour ones kept."""
    height, width = inputs.shape[1], inputs.shape[2]
    if (height, width) == (SEED_SIZE, SEED_SIZE):
        x = layers.ZeroPadding2D(padding=(IMAGENET_SIZE - SEED_SIZE) // 2, name="pad_to_32")(inputs)
    elif (height, width) == (IMAGENET_SIZE, IMAGENET_SIZE):
        x = inputs
    else:
        x = layers.Resizing(IMAGENET_SIZE, IMAGENET_SIZE, interpolation="bilinear",
                            name="resize_to_32")(inputs)
    if inputs.shape[-1] == 3:
        return x
    return layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])


def mcnn(input_shape, n_classes) -> keras.Model:
    """Seed 000's MCNN: five [conv 3x3 same ReLU, BN, max-pool 2 same, dropout .25] blocks."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    for filters in (32, 32, 64, 64, 128):
        x = layers.Conv2D(filters, 3, strides=1, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPool2D(pool_size=2, strides=2, padding="same")(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="mcnn")


def cnn_seed001(input_shape, n_classes) -> keras.Model:
    """Seed 001's first CNN, no regularisation: two valid conv + pool stages, 256-512 dense."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed001"].min_size)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dense(512, activation="relu")(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed001")


SEED001_DROPOUT = 0.25  # the report names the Dropout layers but not their rate
# seed 002 names its Dropout layers but not their rates (an R notebook without its code)
SEED002_CONV_DROPOUT = 0.25
SEED002_DENSE_DROPOUT = 0.5


def cnn_seed001_dropout(input_shape, n_classes) -> keras.Model:
    """Seed 001's final CNN: a third conv layer, dropout after each pool and dense layer."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed001-dropout"].min_size)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(SEED001_DROPOUT)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(SEED001_DROPOUT)(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(SEED001_DROPOUT)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(SEED001_DROPOUT)(x)
    x = layers.Dense(512, activation="relu")(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed001_dropout")


def cnn_seed003(input_shape, n_classes, **network) -> keras.Model:
    """Seed 003's CNN: conv-conv-pool-dropout twice, dense, dropout.

    Without ``network`` it is the baseline ("Before Tuning" column of the seed's Figure 9):
    16-16 / 32-32 filters, 83,322 parameters. ``network`` sets the layers its random search
    tunes (``network_settings.SEED003_BASELINE`` names them): filters, activations, dropout
    rates, the dense width.
    """
    unknown = set(network) - set(SEED003_BASELINE)
    if unknown:
        raise TypeError(f"cnn-seed003 has no network setting {sorted(unknown)}; "
                        f"it has {sorted(SEED003_BASELINE)}")
    n = {**SEED003_BASELINE, **network}
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed003"].min_size)
    x = layers.Conv2D(n["conv1_filters"], 3, activation="relu")(x)
    x = layers.Conv2D(n["conv2_filters"], 3, activation=n["conv2_activation"])(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(n["dropout1"])(x)
    x = layers.Conv2D(n["conv3_filters"], 3, activation=n["conv3_activation"])(x)
    x = layers.Conv2D(n["conv4_filters"], 3, activation=n["conv4_activation"])(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(n["dropout2"])(x)
    x = layers.Flatten()(x)
    x = layers.Dense(n["dense_units"], activation="relu")(x)
    x = layers.Dropout(n["dropout3"])(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed003")


def cnn_seed004(input_shape, n_classes) -> keras.Model:
    """Seed 004's first CNN: one conv 32 + pool, dense 128."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed004"].min_size)
    x = layers.Conv2D(32, 3, strides=1, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed004")


def _seed002_dense_head(x):
    """Both of seed 002's networks end alike (lines 74 and 105): flattened into dense 512
    and dense 128, each followed by batch normalisation and dropout."""
    x = layers.Flatten()(x)
    for units in (512, 128):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(SEED002_DENSE_DROPOUT)(x)
    return x


def cnn_seed002(input_shape, n_classes) -> keras.Model:
    """Seed 002's "CNN 1" (lines 70-74): two 3x3 convolutions of 32 filters with ReLU, each
    followed by batch normalisation and dropout, flattened into dense 512 and dense 128, each
    with batch normalisation and dropout, then the softmax. The document (an R notebook)
    shows no code: valid padding (Keras's default), no pooling (it names none; its second
    network is the one that "introduces" max pooling, line 101) and the dropout rates, 0.25
    after a convolution and 0.5 after a dense layer, are this project's choice.

    Parameters on 28 x 28 x 1 with 10 classes: 320 + 128 (BN) + 9,248 + 128; the 24 x 24 x 32
    map flattened, 18,432 x 512 + 512 = 9,437,696 + 2,048; 512 x 128 + 128 = 65,664 + 512;
    softmax 1,290; in all 9,517,034.
    """
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed002"].min_size)
    for _ in range(2):
        x = layers.Conv2D(32, 3, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(SEED002_CONV_DROPOUT)(x)
    x = _seed002_dense_head(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed002")


def cnn_seed002_v2(input_shape, n_classes) -> keras.Model:
    """Seed 002's ``cnn_model2`` (lines 101-105), the network it concludes is best: CNN 1's
    two convolutions of 32, then convolutions of 64 and 128 ("more layers with higher filter
    counts"), each stage followed by max pooling ("max pooling layers follow the
    convolutional layers") and dropout, every convolution by batch normalisation, and CNN
    1's dense 512 and 128 with batch normalisation and dropout. Its "adjusted" dropout rates
    are not stated: CNN 1's are kept. Valid 3x3 convolutions, 2x2 pools:
    28 -> 26 -> 24 -> 12 -> 10 -> 5 -> 3 -> 1.

    Parameters on 28 x 28 x 1 with 10 classes: 320 + 128 + 9,248 + 128 (two convolutions of
    32, BN); 18,496 + 256 (64); 73,856 + 512 (128); 128 x 512 + 512 = 66,048 + 2,048;
    65,664 + 512; softmax 1,290; in all 238,506.
    """
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES["cnn-seed002-v2"].min_size)
    for stage in ((32, 32), (64,), (128,)):
        for filters in stage:
            x = layers.Conv2D(filters, 3, activation="relu")(x)
            x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(SEED002_CONV_DROPOUT)(x)
    x = _seed002_dense_head(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="cnn_seed002_v2")


def _seed004_network(name: str, input_shape, n_classes, filters: tuple[int, ...],
                     dense: tuple[tuple[int, float], ...]) -> keras.Model:
    """Seed 004's ``Sequential`` CNNs: [3x3 convolution, ReLU, 2x2 max pool] per entry of
    ``filters`` (valid padding, stride 1, as its first network's summary shows: 26 x 26
    after the first convolution, line 402), flattened, then (units, dropout after it) dense
    ReLU layers, then the softmax. The code lines are cut at ``strides=`` in the document:
    ReLU on the convolutions is assumed, as in its first network."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = _resized_to_at_least(inputs, ARCHITECTURES[name].min_size)
    for count in filters:
        x = layers.Conv2D(count, 3, strides=1, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    for units, dropout in dense:
        x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name=name.replace("-", "_"))


def cnn_seed004_v2(input_shape, n_classes) -> keras.Model:
    """Seed 004's ``cnn_model2`` (lines 567-579): conv 32, pool, conv 64, pool, dense 128,
    dropout 0.25, dense 256, dropout 0.25, dense 128, softmax.

    Parameters on 28 x 28 x 1 with 10 classes: 320; 18,496 (11 x 11 x 64 pooled to 5 x 5,
    1,600 flattened); 1,600 x 128 + 128 = 204,928; 33,024; 32,896; 1,290; in all 290,954.
    """
    return _seed004_network("cnn-seed004-v2", input_shape, n_classes, (32, 64),
                            ((128, 0.25), (256, 0.25), (128, 0.0)))


def cnn_seed004_v3(input_shape, n_classes) -> keras.Model:
    """Seed 004's ``cnn_model3`` (lines 592-609): conv 64, pool, conv 128, pool, conv 64,
    pool, dense 128, dropout 0.25, dense 256, dropout 0.5, dense 256, dropout 0.25, dense
    128, dropout 0.10, softmax.

    Parameters on 28 x 28 x 1 with 10 classes: 640; 73,856; 73,792 (3 x 3 x 64 pooled to
    1 x 1, 64 flattened); 64 x 128 + 128 = 8,320; 33,024; 65,792; 32,896; 1,290; in all
    289,610.
    """
    return _seed004_network("cnn-seed004-v3", input_shape, n_classes, (64, 128, 64),
                            ((128, 0.25), (256, 0.5), (256, 0.25), (128, 0.10)))


def lstm(input_shape, n_classes) -> keras.Model:
    """Seed 002's RNN: image rows as time steps, LSTM 128, dropout, dense ReLU, softmax."""
    inputs = keras.Input(shape=input_shape, name="images")
    x = layers.Reshape((input_shape[0], input_shape[1] * input_shape[2]), name="rows")(inputs)
    x = layers.LSTM(128)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.25)(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="lstm")


def resnet20(input_shape, n_classes) -> keras.Model:
    """ResNet-20, the CIFAR network of He, Zhang, Ren and Sun, "Deep Residual Learning for
    Image Recognition" (CVPR 2016), section 4.2, with n = 3: a 3x3 convolution of 16 filters,
    three stages of three basic blocks (3x3 conv, BN, ReLU, 3x3 conv, BN, added to the
    shortcut, ReLU) at 16, 32 and 64 filters, the second and third stage starting with stride
    2 and a 1x1 convolution + BN projection shortcut (the paper's option B), global average
    pooling and the softmax: 20 weighted layers. He-normal initialisation as in the paper;
    convolutions without bias, since BN follows each. On 28 x 28: 28 -> 14 -> 7.

    Parameters on 28 x 28 x 1 with 10 classes (a BN layer holds 4 per channel: scale, offset
    and the two moving statistics): stem 144 + 64; stage 1, 3 x (2 x 2,304 + 2 x 64) = 14,208;
    stage 2, 4,608 + 9,216 + 2 x 128 + 512 + 128 + 2 x (2 x 9,216 + 2 x 128) = 52,096;
    stage 3, 18,432 + 36,864 + 2 x 256 + 2,048 + 256 + 2 x (2 x 36,864 + 2 x 256) = 206,592;
    softmax 64 x 10 + 10 = 650; in all 273,754.
    """
    def convolution(filters: int, size: int = 3, strides: int = 1):
        return layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False,
                             kernel_initializer="he_normal")

    inputs = keras.Input(shape=input_shape, name="images")
    x = layers.ReLU()(layers.BatchNormalization()(convolution(16)(inputs)))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            strides = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            if strides != 1:
                shortcut = layers.BatchNormalization()(convolution(filters, 1, strides)(x))
            y = layers.ReLU()(layers.BatchNormalization()(convolution(filters, 3, strides)(x)))
            y = layers.BatchNormalization()(convolution(filters)(y))
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name="resnet20")


def _application(backbone_class, name: str, input_shape, n_classes, *,
                 hidden: tuple[int, ...] = ()) -> keras.Model:
    """A keras.applications backbone from scratch (weights=None) on 32 x 32 x 3: its last
    map global-average pooled, then ``hidden`` fully connected ReLU layers, then the
    softmax."""
    inputs = keras.Input(shape=input_shape, name="images")
    backbone = backbone_class(weights=None, include_top=False, pooling="avg",
                              input_shape=(IMAGENET_SIZE, IMAGENET_SIZE, 3))
    x = backbone(_imagenet_input(inputs))
    for number, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{number}")(x)
    return keras.Model(inputs, _softmax(n_classes)(x), name=name)


def vgg16(input_shape, n_classes, head: str = VGG16_DEFAULT_HEAD) -> keras.Model:
    """keras.applications.VGG16's 13 convolutions and 5 max-poolings, then its classifier.

    ``head="fc"`` (the default) is the documents' VGG16: seed 004 (line 68) gives it "3 fully
    connected layers as classifiers" after the convolutions, as Simonyan and Zisserman's
    network and Keras's own ``include_top=True`` have them: dense 4096, dense 4096 (ReLU),
    softmax; seed 000 gives no other. On 32 x 32 the last map is 1 x 1 x 512, so pooling it
    or flattening it is the same 512 numbers. ``head="gap"``: only the softmax on them (the
    head this project used before, 14,719,818 parameters against 33,638,218).
    """
    if head not in VGG16_HEADS:
        raise TypeError(f"vgg16 has no head {head!r}; one of {', '.join(VGG16_HEADS)}")
    return _application(keras.applications.VGG16, "vgg16", input_shape, n_classes,
                        hidden=VGG16_HEADS[head])


def resnet50(input_shape, n_classes) -> keras.Model:
    """keras.applications.ResNet50: global average pool, softmax."""
    return _application(keras.applications.ResNet50, "resnet50", input_shape, n_classes)


ARCHITECTURES: dict[str, Architecture] = {
    "mcnn": Architecture(mcnn, "seed 000 (Figures 13-14)", 1, 213_354),
    "cnn-seed001": Architecture(cnn_seed001, "seed 001 (model without regularisation)", 10,
                                565_386),
    "cnn-seed001-dropout": Architecture(cnn_seed001_dropout, "seed 001 (final model)", 18,
                                        590_346),
    "cnn-seed003": Architecture(cnn_seed003, "seed 003 (baseline before tuning)", 12, 83_322),
    "cnn-seed004": Architecture(cnn_seed004, "seed 004 (first CNN)", 4, 693_962),
    "cnn-seed002": Architecture(cnn_seed002, "seed 002 (CNN 1; rates and padding assumed)", 5,
                                None),
    "cnn-seed002-v2": Architecture(cnn_seed002_v2, "seed 002 (cnn_model2; rates and padding "
                                   "assumed)", 24, None),
    "cnn-seed004-v2": Architecture(cnn_seed004_v2, "seed 004 (cnn_model2)", 10, None),
    "cnn-seed004-v3": Architecture(cnn_seed004_v3, "seed 004 (cnn_model3)", 22, None),
    "lstm": Architecture(lstm, "seed 002 (RNN; layer sizes beyond LSTM 128 not stated)", 1,
                         None),
    "resnet20": Architecture(resnet20, "He et al. 2016, section 4.2 (CIFAR ResNet-20, option B "
                             "shortcuts)", 1, 273_754),
    "vgg16": Architecture(vgg16, "seeds 000 and 004 (keras.applications.VGG16)", 1, None),
    "resnet50": Architecture(resnet50, "seeds 000 and 004 (keras.applications.ResNet50)", 1,
                             None),
}
