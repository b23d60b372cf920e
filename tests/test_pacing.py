"""Frame pacing: the animated views wait (training on) while the browser is behind."""
import inspect
import time

import pytest

from explorer import pacing


def sequence(*values):
    """A `behind()` that returns the values in turn, then the last one for ever."""
    values = list(values)
    return lambda: values.pop(0) if len(values) > 1 else values[0]


def test_trains_while_behind_and_draws_once_caught_up():
    steps = []
    done = pacing.train_while_behind(lambda: steps.append(1) or 2,
                                     behind=sequence(200, 120, 61, 60, 500),
                                     interrupted=lambda: False, limit=60)
    assert len(steps) == 3 and done == 6


def test_not_behind_means_no_wait():
    start = time.perf_counter()
    assert pacing.train_while_behind(lambda: pytest.fail("trained"), behind=lambda: 0,
                                     interrupted=lambda: False) == 0
    assert time.perf_counter() - start < 0.5


def test_a_click_ends_the_wait_at_once():
    clicks = sequence(False, False, True)
    steps = []
    pacing.train_while_behind(lambda: steps.append(1) or 1, behind=lambda: 400,
                              interrupted=clicks)
    assert len(steps) == 2


def test_without_training_it_just_waits_and_a_stopped_run_does_too():
    for train in (None, lambda: 0):
        start = time.perf_counter()
        done = pacing.train_while_behind(train, behind=sequence(100, 100, 100, 0),
                                         interrupted=lambda: False)
        assert done == 0 and time.perf_counter() - start >= 2 * pacing.IDLE_POLL_S


def test_the_wait_is_bounded():
    start = time.perf_counter()
    pacing.train_while_behind(None, behind=lambda: 10_000, interrupted=lambda: False,
                              max_wait=0.2)
    assert 0.2 <= time.perf_counter() - start < 2.0


def test_outside_a_server_nothing_is_behind_and_nobody_waits():
    assert pacing.backlog() == 0 and pacing.user_waiting() is False


def test_the_streamlit_internals_pacing_reads_are_still_there():
    """pacing reads private Streamlit state; if an upgrade moves it, pacing silently stops
    protecting slow browsers. This names what moved."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner_utils import script_requests
    from streamlit.web.server.starlette import starlette_websocket

    clients = [c for c in vars(starlette_websocket).values()
               if inspect.isclass(c) and hasattr(c, "write_forward_msg")]
    assert any("self._send_queue" in inspect.getsource(c) for c in clients)
    assert "self._session_mgr" in inspect.getsource(Runtime.__init__)
    assert hasattr(Runtime, "instance")
    from streamlit.runtime.session_manager import ActiveSessionInfo, SessionManager
    assert hasattr(SessionManager, "get_active_session_info")
    assert "client" in ActiveSessionInfo.__dataclass_fields__
    source = inspect.getsource(script_requests.ScriptRequests)
    assert "self._state" in source and "self._rerun_data" in source
    fields = script_requests.RerunData.__dataclass_fields__
    assert {"fragment_id", "fragment_id_queue", "is_fragment_scoped_rerun"} <= set(fields)
