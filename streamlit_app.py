"""GAN dynamics explorer: `streamlit run streamlit_app.py`. Thin: page setup and routing."""
import streamlit as st

from explorer import (compare_view, controls, dirac_view, lecture_view, links, live, session,
                      state)
from explorer import phase_view
from gan_core import tuning

tuning.for_app()                  # process-wide settings, once (see gan_core/tuning.py)
st.set_page_config(page_title="GAN dynamics explorer", page_icon="🎯", layout="wide",
                   initial_sidebar_state="collapsed" if state.flags().present else "auto")
if state.flags().present:
    state.projector_css()


def live_page() -> None:
    flags = state.flags()
    controls.sidebar(classroom=flags.classroom)
    links.write_query(session.trainer().config)
    if not flags.present:
        st.markdown("## GAN dynamics explorer")
    live.page(present=flags.present)


pages = [
    st.Page(live_page, title="Live", icon=":material/play_circle:", url_path="live",
            default=True),
    st.Page(compare_view.page, title="Compare", icon=":material/view_module:",
            url_path="compare"),
    st.Page(lecture_view.page, title="Lecture", icon=":material/school:", url_path="lecture"),
    st.Page(dirac_view.page, title="Dirac-GAN", icon=":material/cyclone:", url_path="dirac"),
    st.Page(phase_view.page, title="Phase diagram", icon=":material/grid_on:", url_path="phase"),
]
st.navigation(pages, position="top").run()
