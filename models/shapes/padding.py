"""One mini-batch of sentences of different lengths run three ways through the classifier's GRU:

- padded, no mask: every sequence is fed PAD characters up to the longest; its "last" state is the state
  after the batch's last position, so the pads have moved it;
- padded, masked: the state is frozen at pads, so the last state is the one at the sequence's own end;
- packed: torch.nn.utils.rnn.pack_padded_sequence through torch.nn.GRU with the classifier's weights
  copied in (torch's own dynamic RNN), h_n per sequence.
Masked and packed agree to float32 rounding; no-mask differs from them for every sequence shorter than
the longest, and equals them for the longest ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from models.shapes.data import encode
from models.shapes.limits import MAX_BATCH, MAX_CHARS
from models.shapes.nets import Classifier


def pad_batch(texts: list[str], chars: str, limit: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """ids (T, B) padded with 0, mask (T, B), lengths (B,). limit: apply the request limits (training
    batches are larger)."""
    if limit and not 1 <= len(texts) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} sentences")
    if any(not 1 <= len(t) <= MAX_CHARS for t in texts):
        raise ValueError(f"each sentence holds 1 to {MAX_CHARS} characters")
    lengths = torch.tensor([len(t) for t in texts])
    ids = torch.zeros(int(lengths.max()), len(texts), dtype=torch.long)
    for b, text in enumerate(texts):
        ids[: len(text), b] = torch.tensor(encode(text, chars))
    mask = torch.arange(ids.shape[0]).unsqueeze(1) < lengths.unsqueeze(0)
    return ids, mask, lengths


def torch_gru(model: Classifier) -> nn.GRU:
    c = model.config
    gru = nn.GRU(c.embed, c.hidden_size, c.layers, bidirectional=c.bidirectional)
    gru.load_state_dict(model.rnn.state_dict())
    return gru.eval()


@torch.no_grad()
def padding_demo(model: Classifier, chars: str, texts: list[str], labels: list[int]) -> dict:
    """Last hidden states, predictions and losses per sentence for the three ways."""
    ids, mask, lengths = pad_batch(texts, chars)
    target = torch.tensor(labels)
    emb = model.embedding(ids)
    ways: dict[str, Tensor] = {}
    _, h_n, _ = model.rnn(emb)
    ways["no_mask"] = h_n[-1]
    _, h_n, _ = model.rnn(emb, mask)
    ways["mask"] = h_n[-1]
    packed = pack_padded_sequence(emb, lengths, enforce_sorted=False)
    _, h_n = torch_gru(model)(packed)
    ways["packed"] = h_n[-1]
    result = {"lengths": lengths.tolist(), "padded_length": int(ids.shape[0])}
    for way, last in ways.items():
        logits = model.readout(last)
        result[way] = {
            "last_hidden": last.tolist(),
            "probs": torch.softmax(logits, -1).tolist(),
            "loss": F.cross_entropy(logits, target, reduction="none").tolist(),
            "mean_loss": float(F.cross_entropy(logits, target)),
            "distance_to_packed": (last - ways["packed"]).norm(dim=-1).tolist(),
        }
    return result
