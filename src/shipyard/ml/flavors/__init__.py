"""Model flavors: scikit-learn (skops), ONNX and plain Python objects."""

from shipyard.ml.flavors.base import FLAVORS, Flavor, flavor_for, register_flavor

__all__ = ["FLAVORS", "Flavor", "flavor_for", "register_flavor"]
