"""Pretraining of the tiny world (DESIGN §3): VAE, I2V transformer, judge and CLIP, each resumable."""
