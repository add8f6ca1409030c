"""The ranges the engine accepts: what one trace may ask of a shared CPU, and where a knob means something.

The API's request models, the bench form, the lesson validator and the model configs all read these
numbers; none of them restates one.
"""

from __future__ import annotations

MAX_TEXT = 256  # characters in one traced sequence (T); the T x T gradient matrix grows as T^2
MAX_HIDDEN = 256  # units per recurrent layer
LAYERS = {"rnn": 3, "lstm": 3, "gru": 3, "sgru": 3, "transformer": 4}  # stacked layers, per architecture
D_MODEL = (8, 256)  # Transformer width
HEADS = (1, 8)  # attention heads (they must divide d_model)
D_FF = (8, 1024)  # Transformer feed-forward width
SPECTRAL_NORM = (0.0, 10.0)  # target largest singular value of W_hh; past 10 every trace overflows
FORGET_BIAS = (-10.0, 10.0)  # sigmoid(10) is 1 - 4.5e-5: the forget gate is as open as float32 tells
CLIP_THRESHOLD_MAX = 1e6
SEED_MAX = 2**31 - 1
SAMPLE_LENGTH = (1, 500)  # characters a trained model writes in one request (models.sampling)
TEMPERATURE = (0.0, 5.0)  # 0 is greedy (argmax); at 5 the distribution is nearly flat
AR_TAU = (0, 8)  # context length of the AR(tau) count model (models.ngram); 0 is the unigram
# training lab (models.training): what one run may ask; app.settings caps the total work per run
LAB_STEPS = (1, 20_000)  # optimiser steps
LAB_BATCH = (1, 256)  # sequences per step
LAB_LR = (1e-5, 10.0)  # learning rate
LAB_HIDDEN = (1, 256)  # units per layer
UPLOAD_BYTES = 20 * 2**20  # an uploaded model file (safetensors)
