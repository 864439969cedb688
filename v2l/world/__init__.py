"""The tiny world every tiny model is trained and measured in: its content, its clip sampler and the semantics'
tiers as the world sees them (`sampler`), the evaluation sets drawn from held-out content (`eval_sets`) and the
version that names a world's data (`version`). Pretraining, training, evaluation and release all read it here."""
