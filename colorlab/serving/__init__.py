"""What the app serves, without Gradio: uploads, model runs, tables and cards, and the server's upkeep.

``uploads`` (images in and out), ``runs`` (checkpoint choice, timed and scored runs),
``tables`` (metric tables, captions, model cards), ``curves`` (training curves),
``hint_editor`` (editing hints' JSON), ``scheduling`` (sharing the CPU), ``memory``
(malloc settings), ``hosting`` (where the app keeps its state).
"""
