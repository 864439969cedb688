"""Baselines Video2LoRA is compared against."""
