"""Drawing, without Streamlit: Snapshot -> plotly figures, animations and raster exports.

Depends on gan_core (for Snapshot's shape and constants) and plotly / pillow; never on
Streamlit or on `explorer`, so the command line can export without the UI.
"""
