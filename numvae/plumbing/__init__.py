"""The plumbing: what numvae needs that is not the lecture's mathematics.

    checks      argument checks with messages that name the argument (every public function)
    atomic      writing files atomically (temporary file, then rename)
    checkpoint  saving and restoring parameters, optimizer state and the Generator, bit for bit
    runs        the run folder that ``python -m numvae train`` writes and the other commands read
    plots       the figures (latent scatter, manifold grid, samples, loss curves)
    progress    the progress bar (tqdm's notebook widget only where ipywidgets is installed)
    lesson      what every lesson script imports: options, check lines, figures, notebook behaviour
    lesson_files  the lesson scripts as files: finding them, their headers, export as notebooks

A student can skip this folder: nothing in it is part of the VAE's derivation.
"""
