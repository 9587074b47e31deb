"""colorlab's entry point: ``python app.py`` builds the Gradio app (``colorlab.ui``) and serves it.

It is also the Hugging Face Space's ``app_file``. Importing it starts nothing: no server, no
thread, no database (``colorlab.ui.launch`` does that).
"""

if __name__ == "__main__":
    import os

    # Torch's OpenMP threads sleep between parallel regions instead of spinning: on a shared or
    # busy CPU (a Space, the app's own HTTP work beside inference) a spinning thread holds a core
    # that another thread needed, which made a 1-MP Colorize 2-5x slower (docs/space.md). Read by
    # OpenMP when torch loads, so it is set before any import; a deployer's own value wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from colorlab.serving.scratch import instance_root

    instance_root()   # this instance's private folder, before Gradio reads GRADIO_TEMP_DIR at its import
    from colorlab import ui

    ui.launch()
