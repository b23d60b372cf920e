"""GAN dynamics explorer: `streamlit run streamlit_app.py`. Thin: page setup and routing."""
import streamlit as st

from explorer import compare_view, controls, dirac_view, lecture_view, links, live, session
from explorer import phase_view

st.set_page_config(page_title="GAN dynamics explorer", page_icon="🎯", layout="wide")


def live_page() -> None:
    query = st.query_params.to_dict()
    if "trainer" not in st.session_state:
        config, problems = links.config_from_query(query)
        session.init(config, notice=" ".join(problems))
    session.before_widgets()
    error_slot = controls.sidebar(classroom=links.flag(query, "classroom"))
    session.apply_config()
    controls.show_config_error(error_slot)
    links.write_query(session.trainer().config)
    if not links.flag(query, "present"):
        st.markdown("## GAN dynamics explorer")
    live.page(present=links.flag(query, "present"))


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
