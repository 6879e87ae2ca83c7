"""The learned model: features, a linear model per decision, and its file.

Pure computation (numpy, OpenCC's conversion tables): no I/O but `artifact`'s file read, no
clock. Trained by `complaints classify --train` (scikit-learn, in the CLI), run here without it.
"""
