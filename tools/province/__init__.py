"""A synthetic Jilin province for demos and end-to-end checks: generated deterministically
from a seed, loaded only through the public contract, with its own ground truth."""
