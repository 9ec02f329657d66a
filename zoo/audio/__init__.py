"""Audio: eSpeak NG synthesis, waveforms, the log-mel front end and keyword-spotting models.

This package's `__init__` imports nothing, so the synthesis process (`zoo.audio.synthesis`) starts without
TensorFlow; `import zoo` registers the models (`zoo.audio.keyword_spotting`).
"""
