"""What one request to the shapes models may ask (the API's request models read these; none restates them)."""

from __future__ import annotations

MAX_CHARS = 80  # characters in one sentence given to the tagger, the classifier or the padding demo
MAX_BATCH = 6  # sentences in one padding-demo batch
