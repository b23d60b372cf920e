"""explorer.stream: training on a thread of its own while a page plays, with flow control
from the browser's reports, and the frames it makes (no browser, no Streamlit here)."""
from __future__ import annotations

import time

import pytest

from explorer import stream as stream_module
from explorer.stream import Stream
from explorer.views import GroupView, LiveView
from gan_core.batched import Group
from gan_core.config import TrainConfig

SMALL = TrainConfig(g_width=16, d_width=16, g_depth=2, d_depth=2, batch_size=64).resolved()


def live_group() -> Group:
    return Group(SMALL, [{}], labels=[""])


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def frames_of(stream, since=0, timeout=20.0):
    wait_until(lambda: stream.frames_after(since), timeout)
    return stream.frames_after(since)


def test_frames_come_every_frame_every_iterations_and_show_the_group_then():
    group = live_group()
    s = Stream(group, LiveView(grid=12, samples=50), frame_every=5, max_ahead=3)
    s.rebase()
    first = s.maker.first["seq"]
    s.play()
    got = []
    while len(got) < 6:
        new = frames_of(s, got[-1]["seq"] if got else first)
        got += new
        s.heard(new[-1]["seq"])
    s.pause()
    titles = [f["figs"]["main"]["layout"]["title"]["text"] for f in got]
    iterations = [int(t.split()[1].replace(",", "")) for t in titles]
    assert iterations[:6] == [5, 10, 15, 20, 25, 30]
    seqs = [f["seq"] for f in got]
    assert seqs == sorted(set(seqs)) and seqs[0] > first
    assert "Iteration 5<" in got[0]["html"]["status"]


def test_without_reports_live_training_waits_max_ahead_frames():
    group = live_group()
    s = Stream(group, LiveView(grid=12, samples=50), frame_every=5, max_ahead=3)
    s.rebase()
    s.play()
    wait_until(lambda: len(s.frames_after(0)) == 3)
    time.sleep(0.5)
    assert group.iteration == 15 and len(s.frames_after(0)) == 3
    s.heard(s.frames_after(0)[0]["seq"])            # the browser drew one: one more frame
    wait_until(lambda: len(s.frames_after(0)) == 4)
    s.pause()
    assert group.iteration == 20


def test_time_based_frames_train_on_while_behind_but_stop_when_nobody_listens(monkeypatch):
    monkeypatch.setattr(stream_module, "STALL_SECONDS", 0.6)
    group = Group(SMALL, [{}, {"loss": "hinge"}])
    s = Stream(group, GroupView(grid=10, samples=40), frame_seconds=0.01, max_ahead=2)
    s.rebase()
    s.play()
    wait_until(lambda: len(s.frames_after(0)) == 2)
    # behind (reports keep coming, but nothing new is drawn): training goes on, no frames
    wait_until(lambda: s.heard(0) or group.iteration > 30)
    assert len(s.frames_after(0)) == 2
    time.sleep(1.0)                                # no report for longer than STALL_SECONDS
    stalled = group.iteration
    time.sleep(0.5)
    assert group.iteration == stalled, "an abandoned page kept training"
    s.heard(0)
    wait_until(lambda: group.iteration > stalled)
    s.pause()


def test_pause_returns_with_the_group_still():
    group = live_group()
    s = Stream(group, LiveView(grid=12, samples=50), frame_every=5, max_ahead=1000)
    s.rebase()
    s.play()
    wait_until(lambda: group.iteration > 20)
    s.pause()
    stopped = group.iteration
    time.sleep(0.3)
    assert group.iteration == stopped


def test_the_goal_finishes_the_stream_with_a_last_frame():
    group = Group(SMALL, [{}, {"k": 2}])
    s = Stream(group, GroupView(grid=10, samples=40), frame_seconds=10.0, stop_at=12)
    s.rebase()
    s.play()
    wait_until(lambda: s.finished)
    assert not s.playing and group.iteration == 12
    last = s.frames_after(0)[-1]
    assert "it 12" in last["figs"]["panel_0"]["layout"]["title"]["text"]
    s.play()
    assert not s.playing, "a finished stream does not start again"


def test_rebase_starts_a_new_epoch_and_drops_older_frames():
    group = live_group()
    s = Stream(group, LiveView(grid=12, samples=50), frame_every=5, max_ahead=2)
    s.rebase()
    epoch = s.maker.epoch
    s.play()
    wait_until(lambda: len(s.frames_after(0)) == 2)
    s.pause()
    s.rebase()
    assert s.maker.epoch == epoch + 1 and s.frames_after(0) == []
    assert s.maker.first["seq"] > 2
    assert s.maker.static["figures"]["main"]["layout"]["title"]["text"].startswith(
        f"iteration {group.iteration}")


def test_an_error_on_the_thread_reaches_the_page(monkeypatch):
    group = live_group()
    s = Stream(group, LiveView(grid=12, samples=50), frame_every=5)
    s.rebase()
    monkeypatch.setattr(group, "step", lambda n=1: 1 / 0)
    s.play()
    wait_until(lambda: not s.playing)
    with pytest.raises(ZeroDivisionError):
        s.frames_after(0)
