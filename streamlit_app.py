"""GAN dynamics explorer: `streamlit run streamlit_app.py`. Thin: page setup and routing."""
import streamlit as st

from explorer import controls, live, session

st.set_page_config(page_title="GAN dynamics explorer", page_icon="🎯", layout="wide")

session.init()
session.before_widgets()
error_slot = controls.sidebar()
session.apply_config()
controls.show_config_error(error_slot)

st.title("GAN dynamics explorer")
live.page()
