"""colorlab's entry point: ``python app.py`` builds the Gradio app (``colorlab.ui``) and serves it.

It is also the Hugging Face Space's ``app_file``. Importing it starts nothing: no server, no
thread, no database (``colorlab.ui.launch`` does that).
"""
from colorlab import ui

if __name__ == "__main__":
    ui.launch()
