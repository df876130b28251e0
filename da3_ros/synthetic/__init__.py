"""Synthetic scene, six-camera rig and a simulated DA3 predictor for tests and demos."""
