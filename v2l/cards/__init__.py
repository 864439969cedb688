"""Provenance of the committed models: model cards with file hashes and metrics (`card`), the upstream models
each was built on (`lineage`), and the bars a card's metrics are held to (`bars`)."""
