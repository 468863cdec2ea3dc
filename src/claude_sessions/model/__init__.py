"""The model every layer speaks: messages, sessions' helpers, errors, ids, times, prices,
filters, the full-text query language and the folding of transcript entries."""
