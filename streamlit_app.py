"""GAN dynamics explorer: `streamlit run streamlit_app.py`. Thin: page setup and routing."""
import streamlit as st

from explorer import controls, dirac_view, live, session

st.set_page_config(page_title="GAN dynamics explorer", page_icon="🎯", layout="wide")


def live_page() -> None:
    session.init()
    session.before_widgets()
    error_slot = controls.sidebar()
    session.apply_config()
    controls.show_config_error(error_slot)
    st.title("GAN dynamics explorer")
    live.page()


pages = [
    st.Page(live_page, title="Live", icon=":material/play_circle:", url_path="live",
            default=True),
    st.Page(dirac_view.page, title="Dirac-GAN", icon=":material/cyclone:", url_path="dirac"),
]
st.navigation(pages, position="top").run()
