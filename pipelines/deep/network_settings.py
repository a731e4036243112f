"""Settings a network of the zoo takes, kept free of Keras: the zoo's factories (which must
not import Keras) and the builders in ``_architectures`` both read them."""

# Seed 003's network before tuning (its Figure 9, "Before Tuning"): the layers its random
# search varies, by the names ``cnn-seed003`` takes as keyword settings.
SEED003_BASELINE = {
    "conv1_filters": 16, "conv2_filters": 16, "conv2_activation": "relu", "dropout1": 0.5,
    "conv3_filters": 32, "conv3_activation": "relu", "conv4_filters": 32,
    "conv4_activation": "relu", "dropout2": 0.3, "dense_units": 128, "dropout3": 0.2,
}

# VGG16's classifier after its convolutions, by the name ``vgg16`` takes as ``head``: the
# hidden dense layers before the softmax. "fc" is the documents' (seed 004, line 68: "3 fully
# connected layers"), "gap" a softmax straight on the pooled convolutions.
VGG16_HEADS = {"fc": (4096, 4096), "gap": ()}
VGG16_DEFAULT_HEAD = "fc"
