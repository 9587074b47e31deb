"""colorlab's entry point: ``python app.py`` builds the Gradio app (``colorlab.ui``) and serves it.

It is also the Hugging Face Space's ``app_file``. Importing it starts nothing: no server, no
thread, no database (``colorlab.ui.launch`` does that).
"""

if __name__ == "__main__":
    from colorlab.serving.scratch import instance_root

    instance_root()   # this instance's private folder, before Gradio reads GRADIO_TEMP_DIR at its import
    from colorlab import ui

    ui.launch()
