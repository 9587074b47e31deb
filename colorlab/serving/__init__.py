"""What the app serves, without Gradio: uploads, model runs, tables and cards, and the server's upkeep.

``uploads`` (images in and out), ``runs`` (checkpoint choice, timed and scored runs),
``tables`` (metric tables, captions, model cards), ``curves`` (training curves),
``hint_editor`` (editing hints' JSON), ``scheduling`` (sharing the CPU), ``memory``
(malloc settings), ``hosting`` (where the app keeps its state), ``limits`` (every limit
the server enforces).

This file imports nothing: the library takes its caps from ``colorlab.serving.limits``,
so importing the package must not import the modules that import the library back.
"""
