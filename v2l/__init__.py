"""v2l: Video2LoRA as a library.

A hypernetwork reads a reference video through a frozen CogVideoX VAE and predicts a tiny LightLoRA
for the frozen CogVideoX I2V transformer. This package imports neither Dagster nor Ray at module level.
"""

__version__ = "0.1.0"
