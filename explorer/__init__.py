"""Streamlit UI pieces of the GAN explorer: figures, controls, views."""
