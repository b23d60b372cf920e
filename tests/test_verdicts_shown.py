"""One verdict per frame, on the samples it shows: the badge, the Live status line, the mode
bars, the table and the charts' event markers all read gan_core.metrics' verdict and events,
checked on a recorded run that collapses and hops (the mode-collapse scenario's left side)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from explorer.views import GroupView, LiveView, badge, badge_html
from gan_core import scenarios
from gan_core.batched import Group
from gan_core.metrics import HOPPING, events, mode_statistics
from gan_core.records import load_run, run_bytes

pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")
STEPS = 400


@pytest.fixture(scope="module")
def collapsing() -> Group:
    """The mode-collapse scenario's collapsing run at its own seed, recorded every 25."""
    scenario = scenarios.get("mode-collapse")
    group = Group(scenario.base, [{"k": 1}], labels=["collapsing"], record_every=25)
    group.step(STEPS)
    return group


def test_the_badge_is_the_verdict_of_the_samples_the_frame_shows(collapsing):
    member = collapsing.members[0]
    for record in member.records:
        again = mode_statistics(record.fake, record.centers, member.data.std)
        assert badge(record) == record.verdict == again["verdict"]
    now = LiveView(grid=12, samples=1000).snapshots(collapsing, None)[0]
    assert badge(now) == "mode collapse"          # this run at this seed, measured
    assert badge(now) == mode_statistics(now.fake, now.centers, member.data.std)["verdict"]


def test_live_status_line_and_mode_bars_agree(collapsing):
    view = LiveView(grid=12, samples=500)
    for replay in (None, 0, 100, STEPS):
        snap = view.snapshots(collapsing, replay)[0]
        status = view.texts(collapsing, [snap])["status"]
        bar = view.figures(collapsing, [snap], slow=False)["bar"]
        covered, verdict = snap.metrics["modes_covered"], snap.verdict
        assert f"modes {covered}/8" in status and f">{verdict}<" in status
        assert bar["layout"]["title"]["text"].endswith(f"{covered} of 8 covered · {verdict}")
        # the bars are the same samples: within 3 std, then the rest that sits at each mode
        within, near = (np.asarray(trace["y"]) for trace in bar["data"])
        assert within.tolist() == snap.mode_counts.tolist()
        assert (within + near).tolist() == snap.metrics["nearest_counts"]


def test_events_on_a_recorded_run_that_collapses_and_hops(collapsing):
    member = collapsing.members[0]
    found = member.events()
    kinds = [e["kind"] for e in found]
    assert "mode collapse" in kinds and kinds.count(HOPPING) >= 2, found
    # they are exactly the changes of the records' own verdicts and dominant modes
    records = member.records
    assert found == events([r.iteration for r in records],
                           [r.metrics["verdict"] for r in records],
                           [r.metrics["dominant_mode"] for r in records])
    by_iteration = {r.iteration: r.metrics for r in records}
    for event in found:
        if event["kind"] == HOPPING:
            assert by_iteration[event["iteration"]]["dominant_mode"] == event["mode"]
            assert by_iteration[event["iteration"]]["verdict"] == "mode collapse"
        else:
            assert by_iteration[event["iteration"]]["verdict"] == event["kind"]
    # a saved run keeps them
    assert load_run(run_bytes(member)).events() == found


def test_charts_mark_the_events_where_they_happened(collapsing):
    member = collapsing.members[0]
    found = member.events()
    metrics = member.metric_history.as_arrays()
    for chart in (LiveView().charts(collapsing, None)["modes"],
                  GroupView().charts(collapsing, None)["chart_modes_covered"]):
        marks = [t for t in chart["data"] if t.get("meta") == "event"]
        shown = sorted((float(x), t["name"].split(" ", 1)[1]) for t in marks for x in t["x"])
        assert shown == sorted((float(e["iteration"]), e["kind"]) for e in found)
        for trace in marks:        # on the line: modes covered at that iteration
            for x, y in zip(trace["x"], trace["y"]):
                assert y == metrics["modes_covered"][metrics["iteration"] == x][0]


def test_the_table_shows_each_panels_badge(collapsing):
    view = GroupView(grid=12, samples=300)
    snaps = view.snapshots(collapsing, None)
    table = view.texts(collapsing, snaps)["table"]
    assert f"<td>{badge(snaps[0])}</td></tr>" in table
    title = view.figures(collapsing, snaps)["panel_0"]["layout"]["title"]["text"]
    assert title.endswith(f">{badge(snaps[0])}</span>")


def test_a_stopped_run_is_badged_diverged_and_old_records_are_judged(collapsing):
    snap = collapsing.members[0].records[-1]
    stopped = dataclasses.replace(snap, status="diverged at iteration 7")
    assert stopped.verdict == "diverged" and badge(stopped) == "diverged at iteration 7"
    assert "Reset to start again" in badge_html(stopped, " — Reset to start again")
    old = {k: v for k, v in snap.metrics.items()
           if k in ("modes_covered", "n_modes", "high_quality", "reverse_kl", "collapsed", "w1")}
    assert dataclasses.replace(snap, metrics=old).verdict in ("mode collapse", "partial",
                                                                  "off the data")
    assert dataclasses.replace(snap, metrics={**old, "collapsed": True}).verdict == \
        "mode collapse"


def test_the_timeline_lists_the_last_events_of_each_run(collapsing):
    from explorer.playback import events_text

    found = collapsing.members[0].events()
    text = events_text(collapsing, last=3)
    assert text.startswith("Events: collapsing: ")
    assert f"{len(found) - 3} earlier" in text
    for event in found[-3:]:
        assert f"{event['kind']} at {event['iteration']:,}" in text
    assert text.count(" at ") == 3


def test_a_record_saved_before_verdicts_loads_and_goes_on_judging(collapsing):
    """Its metric history lacks the verdict and dominant mode columns (NaN when loaded): no
    events from that part; records made after loading have them."""
    import io
    import json
    import zipfile

    member = collapsing.members[0]
    old = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(run_bytes(member))) as src, \
            zipfile.ZipFile(old, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "arrays.npz":
                arrays = dict(np.load(io.BytesIO(data)))
                arrays["metric_history.rows"] = arrays["metric_history.rows"][:, :5]
                out = io.BytesIO()
                np.savez_compressed(out, **arrays)
                data = out.getvalue()
            elif name == "record.json":
                header = json.loads(data)
                for snap in header["snapshots"]:
                    snap["metrics"] = {k: snap["metrics"][k] for k in
                                       ("modes_covered", "n_modes", "high_quality",
                                        "reverse_kl", "collapsed", "w1")}
                data = json.dumps(header).encode()
            dst.writestr(name, data)
    loaded = load_run(old.getvalue())
    assert loaded.events() == []
    assert all(r.verdict in ("mode collapse", "off the data", "partial")
               for r in loaded.records)
    loaded.record_every = 25
    loaded.step(50)
    assert np.isfinite(loaded.metric_history.as_arrays()["verdict"][-2:]).all()
