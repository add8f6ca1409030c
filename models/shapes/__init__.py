"""The shapes of RNNs (lesson 10): a name tagger (many-to-many), a sentence classifier (many-to-one),
and the padding demo (one mini-batch run padded without a mask, padded with a mask, and packed).

data: sentences made in code from small made-up name lists, tagged per character (BIO);
nets: a GRU stepped one position at a time with torch.nn.GRU's parameter names (uni- or bidirectional,
stacked), the tagger and the classifier on top of it; padding: the three ways to run a ragged batch;
train: the recipes, training and the committed checkpoints.
"""
