// The frame player: draws the frames the server streams, one after another at a steady rate,
// with plotly.js (served from the installed `plotly` package by Streamlit's component API).
//
// Contract with explorer/player.py (data, Python -> here):
//   epoch   changes when what is shown is rebuilt (new run, pause, replay, layers...)
//   static  {blocks, figures, charts}: the page layout, one template per figure, the side
//           charts; sent with every new epoch until this player acknowledges it
//   mode    "play": queue `frames` and play them; "still": show the last frame at once
//   prefix  the page's control keys (a click on its Pause, Step... freezes the animation)
//   frames  [{seq, figs: {id: diff}, html: {id: text}, charts: {id: append | {fig}}}]
// and back (setStateValue("ack", ...) reruns the server's fragment, which sends more):
//   {epoch, received, drawn, queued, fps, n, room} (room: height left below the player's top)
// A figure diff is gan_draw/frames.py's: per trace [template index | -1, changed attributes],
// per layout key the new value (null: remove). The DOM and the plots persist across updates, so
// a figure is never blank once drawn: every frame is a Plotly.react on the same div.

const PLAYERS = (window.__ganExplorerPlayers = window.__ganExplorerPlayers || new Map());
const MAX_FPS = 30;
const QUEUE_SECONDS = 0.5;      // frames kept ahead, in seconds of playback: smooths round trips
const CHART_EVERY_MS = 250;     // one side chart grows every 250 ms, in turn: no stall for all
const CHART_MAX_POINTS = 1500;  // a series longer than this keeps every other point
const SPARSE_POINTS = 40;       // gan_draw.figures.SPARSE_POINTS: up to this, points are marked
const ACK_RETRY_MS = 1500;
const ACK_EVERY_MS = 200;       // progress reports while playing, at most one in flight
const QUIET_MS = 800;            // no report this long after the user works another control
const INPUT_EVENTS = ["pointerdown", "keydown", "input", "change"];
const PLOT_CONFIG = { displayModeBar: false, responsive: false, showTips: false };

let plotlyPromise = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL("../gan_explorer.plotly/plotly.min.js", import.meta.url).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("could not load plotly.js from " + script.src));
      document.head.appendChild(script);
    });
  }
  return plotlyPromise;
}

function el(tag, cls) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  return node;
}

class Player {
  constructor(parent) {
    this.parent = parent;
    this.root = el("div", "gx-player");
    parent.appendChild(this.root);
    this.blocksKey = "";
    this.plots = new Map();      // id -> div
    this.texts = new Map();      // id -> div
    this.templates = {};
    this.charts = {};            // id -> {fig, pending: {x, y} per trace}
    this.epoch = null;
    this.mode = "still";
    this.queue = [];
    this.lastSeq = -1;
    this.drawnSeq = -1;
    this.arrivals = [];          // [time, frames] of recent batches: the production rate
    this.drawTimes = [];         // times of recent draws: the frame rate we achieve
    this.lastDraw = 0;
    this.lastChartFlush = 0;
    this.acks = 0;
    this.lastAck = 0;
    this.ackedDrawn = -1;
    this.inflight = 0;           // time of the unanswered ack, 0 when none
    this.busy = false;
    this.ready = false;
    this.pendingStill = null;
    loadPlotly().then(() => { this.ready = true; this.flushStill(); this.tick(); });
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.root);
    this.sentRoom = 0;
    window.addEventListener("resize", () => {         // the projector layout fits the window
      if (Math.abs(this.room() - this.sentRoom) > 40) this.ack(true);
    });
    // Pause, Step, Reset... stop the animation at once, in the browser: the server's answer
    // (a still of where the run is) comes a round trip later. The page's controls carry the
    // player's prefix in their keys (explorer/playback.py), e.g. .st-key-live_playback.
    this.onClick = (event) => {
      if (!this.prefix || this.mode !== "play") return;
      const button = event.target.closest && event.target.closest("button");
      const control = button && button.closest(`[class*="st-key-${this.prefix}_"]`);
      if (!control || /\bPlay\b/.test(button.textContent)) return;
      this.mode = "frozen";
      this.queue = [];
    };
    document.addEventListener("click", this.onClick, true);
    // While the user works a control elsewhere on the page, the player sends no report: each
    // report reruns the player's fragment, and a widget change that meets such a rerun can be
    // lost by Streamlit (a dataset switched while playing came back with blank fields).
    this.quietUntil = 0;
    this.onInput = (event) => {
      if (!this.root.contains(event.target)) this.quietUntil = performance.now() + QUIET_MS;
    };
    for (const type of INPUT_EVENTS) document.addEventListener(type, this.onInput, true);
  }

  room() {
    // Height left for the player below where it starts on the page (the projector layout
    // sizes its figures to it, so nothing is cut off).
    const top = this.root.getBoundingClientRect().top + window.scrollY;
    return Math.round(window.innerHeight - top - 12);
  }

  // ---------------------------------------------------------------- data from the server
  receive(data) {
    if (!data) return;
    this.inflight = 0;
    if (data.epoch !== this.epoch) {
      if (!data.static) { this.ack(true); return; }      // ask for this epoch's templates
      this.setup(data.static, data.epoch);
      // playing, tell the server this epoch's templates arrived (it then sends frames alone).
      // A still needs no answer: a rerun of the player's fragment for nothing could meet a
      // widget change the user makes at that moment, and Streamlit can lose that change.
      // (A still reports only the room it has, when the server does not know it yet: the
      // projector layout sizes its figures to it.)
      if (data.mode === "play" || Math.abs(this.room() - this.sentRoom) > 40) this.ack(true);
    }
    this.mode = data.mode;
    this.prefix = data.prefix;
    this.maxFps = data.max_fps || MAX_FPS;
    const frames = (data.frames || []).filter((f) => f.seq > this.lastSeq);
    if (frames.length) this.lastSeq = frames[frames.length - 1].seq;
    if (data.mode === "still") {
      this.queue = [];
      if (frames.length) { this.pendingStill = frames[frames.length - 1]; this.flushStill(); }
      return;
    }
    if (frames.length) {
      this.arrivals.push([performance.now(), frames.length]);
      this.queue.push(...frames);
    }
    if (!this.running) this.tick();
  }

  setup(stat, epoch) {
    this.epoch = epoch;
    this.queue = [];
    this.lastSeq = -1;
    const blocksKey = JSON.stringify(stat.blocks);
    if (blocksKey !== this.blocksKey) this.build(stat.blocks, blocksKey);
    this.templates = stat.figures || {};
    this.charts = {};
    for (const [id, fig] of Object.entries(stat.charts || {})) {
      this.charts[id] = { fig, pending: null };
    }
    this.staticPending = true;
  }

  build(blocks, key) {
    for (const div of this.plots.values()) if (window.Plotly) window.Plotly.purge(div);
    this.root.replaceChildren();
    this.plots.clear();
    this.texts.clear();
    const make = (block) => {
      if (block.type === "plot") {
        const div = el("div", "gx-plot");
        div.dataset.id = block.id;
        if (block.height) div.style.minHeight = block.height + "px";
        this.plots.set(block.id, div);
        return div;
      }
      if (block.type === "html") {
        const div = el("div", "gx-html " + (block.cls || ""));
        div.dataset.id = block.id;
        this.texts.set(block.id, div);
        return div;
      }
      const box = el("div", block.type === "grid" ? "gx-grid" : "gx-row");
      if (block.type === "grid") box.style.gridTemplateColumns = `repeat(${block.columns}, minmax(0, 1fr))`;
      (block.children || []).forEach((child, i) => {
        const cell = el("div", "gx-cell");
        if (block.weights) cell.style.flex = `${block.weights[i]} 1 0`;
        (Array.isArray(child) ? child : [child]).forEach((c) => cell.appendChild(make(c)));
        box.appendChild(cell);
      });
      return box;
    };
    blocks.forEach((b) => this.root.appendChild(make(b)));
    this.blocksKey = key;
  }

  // ---------------------------------------------------------------- drawing
  flushStill() {
    if (!this.ready || !this.pendingStill) return;
    const frame = this.pendingStill;
    this.pendingStill = null;
    this.draw(frame, true);
    this.drawCharts(true);
  }

  tick() {
    if (!this.root.isConnected) { this.stop(); return; }
    this.running = this.mode === "play";
    if (!this.running || !this.ready) return;
    const now = performance.now();
    if (this.staticPending) this.drawCharts(true);
    if (this.queue.length && !this.busy && now - this.lastDraw >= this.interval(now)) {
      this.draw(this.queue.shift(), false);
      this.lastDraw = now;
    }
    if (now - this.lastChartFlush >= CHART_EVERY_MS) this.drawCharts(false);
    // Ask for more when the queue runs low, and report progress at least every ACK_EVERY_MS
    // anyway: the server trains ahead only as far as the frames it knows were drawn.
    const lowWater = Math.max(2, Math.ceil(this.rate(now) * QUEUE_SECONDS * 0.6));
    const due = this.queue.length <= lowWater
      || (now - this.lastAck >= ACK_EVERY_MS && this.drawnSeq !== this.ackedDrawn);
    if (due && now >= this.quietUntil && (!this.inflight || now - this.inflight > ACK_RETRY_MS)) {
      this.ack(false);
    }
    requestAnimationFrame(() => this.tick());
  }

  stop() {
    this.running = false;
    this.resizer.disconnect();
    document.removeEventListener("click", this.onClick, true);
    for (const type of INPUT_EVENTS) document.removeEventListener(type, this.onInput, true);
  }

  rate(now) {
    // frames produced per second over the last ~3 s (the server's pace)
    this.arrivals = this.arrivals.filter(([t]) => now - t < 3000);
    if (this.arrivals.length < 2) return 10;
    const span = (now - this.arrivals[0][0]) / 1000;
    const n = this.arrivals.slice(1).reduce((s, [, k]) => s + k, 0);
    return span > 0.2 ? n / span : 10;
  }

  interval(now) {
    // Play at the pace frames arrive, a little faster when the queue is long and slower when
    // it runs short, so the animation stays steady across round trips; never above maxFps.
    const rate = this.rate(now);
    const target = Math.max(1, rate * QUEUE_SECONDS);
    const adjust = Math.min(1.5, Math.max(0.6, 1 + (this.queue.length - target) / (2 * target)));
    return 1000 / Math.min(this.maxFps, Math.max(1, rate * adjust));
  }

  draw(frame, still) {
    this.busy = true;
    try {
      for (const [id, diff] of Object.entries(frame.figs || {})) {
        const div = this.plots.get(id);
        const template = this.templates[id] || { data: [], layout: {} };   // sent whole
        if (!div) continue;
        if (!still && div.data && unchanged(diff) && !("canvas" in diff)) continue;
        const fig = applyDiff(template, diff);
        if (still || !div.data || !(unchanged(diff) || renumberTitle(div, diff))) {
          fixSize(div, fig.layout);
          window.Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
          div._gxTitle = titleText(fig.layout);
        }
        paintCanvas(div, fig.canvas);
      }
      for (const [id, text] of Object.entries(frame.html || {})) {
        const div = this.texts.get(id);
        if (div && div.innerHTML !== text) div.innerHTML = text;
      }
      for (const [id, change] of Object.entries(frame.charts || {})) {
        const chart = this.charts[id];
        if (change.fig) {
          this.charts[id] = { fig: change.fig, pending: null, dirty: true };
        } else if (chart && change.x) {
          chart.pending = chart.pending || { x: change.x.map(() => []), y: change.y.map(() => []) };
          change.x.forEach((xs, i) => {
            chart.pending.x[i].push(...xs);
            chart.pending.y[i].push(...change.y[i]);
          });
        }
      }
      this.drawnSeq = frame.seq;
      const now = performance.now();
      this.drawTimes.push(now);
      this.drawTimes = this.drawTimes.filter((t) => now - t < 2000);
    } finally {
      this.busy = false;
    }
  }

  drawCharts(all) {
    this.lastChartFlush = performance.now();
    const first = this.staticPending;
    this.staticPending = false;
    // Between rebuilds, one chart with new points is redrawn per call, in turn.
    const waiting = Object.keys(this.charts).filter((id) => this.charts[id].pending);
    const nextChart = waiting.length
      ? waiting[(this.chartTurn = ((this.chartTurn || 0) + 1)) % waiting.length] : null;
    for (const [id, chart] of Object.entries(this.charts)) {
      const div = this.plots.get(id);
      if (!div) continue;
      if (all || first || chart.dirty || !div.data) {
        if (chart.pending) appendPoints(chart.fig, chart.pending);
        chart.pending = null;
        chart.dirty = false;
        fixSize(div, chart.fig.layout);
        window.Plotly.react(div, chart.fig.data, chart.fig.layout, PLOT_CONFIG);
      } else if (chart.pending && id === nextChart) {
        const indices = chart.pending.x.map((_, i) => i);
        const total = chart.fig.data.reduce((m, t) => Math.max(m, (t.x || []).length), 0);
        // a series that grew past SPARSE_POINTS loses its markers (gan_draw.figures' rule)
        const dense = chart.fig.data.filter((t) => t.mode === "lines+markers"
          && asArray(t.x).length + chart.pending.x[0].length > SPARSE_POINTS);
        if (total > CHART_MAX_POINTS || dense.length) {
          appendPoints(chart.fig, chart.pending);
          thin(chart.fig);
          // new trace objects: Plotly.react compares them with the ones it drew
          chart.fig.data = chart.fig.data.map((t) => Object.assign({}, t,
            dense.includes(t) ? { mode: "lines" } : {}));
          window.Plotly.react(div, chart.fig.data, chart.fig.layout, PLOT_CONFIG);
        } else {
          window.Plotly.extendTraces(div, chart.pending, indices);   // also grows chart.fig's arrays
        }
        chart.pending = null;
      }
    }
  }

  resize() {
    if (!this.ready) return;
    for (const div of this.plots.values()) {
      // only plots on screen: a page being redrawn may have hidden or detached them
      if (!div.data || !div.isConnected || div.offsetParent === null) continue;
      Promise.resolve(window.Plotly.Plots.resize(div))
        .then(() => {                       // plotly redrew the title it was last given
          div._gxTitle = titleText(div.layout);
          paintCanvas(div, div._gxItems);
        }).catch(() => {});
    }
  }

  // ---------------------------------------------------------------- talking back
  ack(force) {
    if (!this.setState) return;
    const now = performance.now();
    if (!force && this.mode !== "play") return;
    this.inflight = now;
    this.drawTimes = this.drawTimes.filter((t) => now - t < 2000);
    const fps = this.drawTimes.length > 1
      ? (this.drawTimes.length - 1) / ((now - this.drawTimes[0]) / 1000) : 0;
    this.acks += 1;
    this.lastAck = now;
    this.ackedDrawn = this.drawnSeq;
    this.sentRoom = this.room();
    this.setState("ack", {
      epoch: this.epoch, received: this.lastSeq, drawn: this.drawnSeq,
      queued: this.queue.length, fps: Math.round(fps * 10) / 10, n: this.acks,
      room: this.sentRoom,
    });
  }
}

// ------------------------------------------------------------------ figures
function applyDiff(template, diff) {
  const data = (diff.data || []).map(([index, attrs]) => {
    const trace = Object.assign({}, index >= 0 ? template.data[index] : {}, attrs);
    for (const k of Object.keys(trace)) if (trace[k] === null) delete trace[k];
    return trace;
  });
  for (const trace of data) {               // an array sent once for two traces
    for (const [k, v] of Object.entries(trace)) {
      if (v && typeof v === "object" && v.ref) trace[k] = data[v.ref[0]][v.ref[1]];
    }
  }
  let canvas = "canvas" in diff ? diff.canvas : template.canvas;
  if (isListDiff(canvas)) canvas = expandList(canvas, template.canvas);
  const layout = Object.assign({}, template.layout, diff.layout || {});
  for (const [k, v] of Object.entries(layout)) {
    if (v === null) delete layout[k];
    else if (isListDiff(v)) layout[k] = expandList(v, template.layout[k]);
  }
  return { data, layout, canvas };
}

// A list diff (gan_draw/frames.py _list_diff): items unchanged from the template's come as
// their index.
function isListDiff(value) {
  return Boolean(value && typeof value === "object" && Array.isArray(value.items));
}

function expandList(diff, old) {
  return diff.items.map((item) => (typeof item === "number" ? old[item] : item));
}

// ------------------------------------------------------------------ the canvas layers
// A playing figure's samples, arrows, boundary and D's surface come as numbers
// (gan_draw.figures._as_canvas) and are painted here, on a canvas over the plot area: between
// plotly's paper (background, axes) and its top layer (title, legend, annotations). Plotly
// redraws only what is left (the title), and nothing is built per point.
const TYPED = { f4: Float32Array, f8: Float64Array, u1: Uint8Array, i1: Int8Array,
  i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array };

function typed(spec) {
  if (!spec || !spec.bdata) return spec || [];
  if (!spec._array) {
    const text = atob(spec.bdata), bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    spec._array = new TYPED[spec.dtype](bytes.buffer);
  }
  return spec._array;
}

function dashPattern(dash, width) {
  // plotly.js's own dash lengths (Drawing.dashStyle), so the boundary looks as in a still
  const d = Math.max(width, 3);
  return { dot: [d, d], dash: [3 * d, 3 * d], longdash: [5 * d, 5 * d],
    dashdot: [3 * d, d, d, d], longdashdot: [5 * d, 2 * d, d, 2 * d] }[dash] || [];
}

function paintCanvas(div, items) {
  div._gxItems = items;
  let canvas = div._gxCanvas;
  const full = div._fullLayout;
  if (!items || !full || !full._paper) { if (canvas) canvas.style.display = "none"; return; }
  const xa = full.xaxis, ya = full.yaxis;
  const paper = full._paper.node();
  if (!canvas) {
    canvas = div._gxCanvas = document.createElement("canvas");
    canvas.className = "gx-canvas";
  }
  if (canvas.previousSibling !== paper) paper.parentNode.insertBefore(canvas, paper.nextSibling);
  const w = xa._length, h = ya._length, ratio = window.devicePixelRatio || 1;
  Object.assign(canvas.style, { display: "block", left: xa._offset + "px", top: ya._offset + "px",
    width: w + "px", height: h + "px" });
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const [x0, x1] = xa.range, [y0, y1] = ya.range;
  const sx = w / (x1 - x0), sy = h / (y1 - y0);
  for (const item of items) {
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    if (item.kind === "image") paintImage(ctx, item, (item.x0 - x0) * sx, (y1 - item.y1) * sy,
      (item.x1 - item.x0) * sx, (item.y1 - item.y0) * sy);
    else paintPoints(ctx, item, typed(item.xy), (x) => (x - x0) * sx, (y) => (y1 - y) * sy);
  }
}

function paintImage(ctx, item, left, top, width, height) {
  const [rows, cols] = item.rgba.shape.split(",").map(Number);
  const cells = new ImageData(new Uint8ClampedArray(typed(item.rgba).buffer), cols, rows);
  const source = paintImage.scratch || (paintImage.scratch = document.createElement("canvas"));
  source.width = cols;
  source.height = rows;
  source.getContext("2d").putImageData(cells, 0, 0);
  ctx.imageSmoothingEnabled = false;        // cell by cell, as a Plotly heatmap draws them
  ctx.drawImage(source, left, top, width, height);
}

function paintPoints(ctx, item, xy, px, py) {
  ctx.beginPath();
  if (item.kind === "dots") {               // one path of discs: a cluster is not darker
    const r = item.size / 2;
    for (let i = 0; i + 1 < xy.length; i += 2) {
      if (!Number.isFinite(xy[i]) || !Number.isFinite(xy[i + 1])) continue;
      const x = px(xy[i]), y = py(xy[i + 1]);
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
    ctx.globalAlpha = item.opacity;
    ctx.fillStyle = item.color;
    ctx.fill();
    return;
  }
  let pen = false;                          // NaN rows separate the polylines
  for (let i = 0; i + 1 < xy.length; i += 2) {
    if (!Number.isFinite(xy[i]) || !Number.isFinite(xy[i + 1])) { pen = false; continue; }
    const x = px(xy[i]), y = py(xy[i + 1]);
    if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.lineWidth = item.width;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.setLineDash(dashPattern(item.dash, item.width));
  ctx.strokeStyle = item.color;
  ctx.stroke();
}

// A playing frame usually changes nothing in plotly's part but the iteration in the title:
// those digits are rewritten in the title's SVG text (plotly's relayout of a title redoes the
// axes and margins too: ~5 ms per figure per frame). Any other change goes through Plotly.react.
const DIGITS = /\d[\d,]*/g;

function titleText(layout) {
  const title = layout && layout.title;
  return typeof title === "string" ? title : (title && title.text) || "";
}

function renumberTitle(div, diff) {
  const keys = Object.keys(diff.layout || {});
  if (keys.length !== 1 || keys[0] !== "title" || !diff.layout.title || !sameTraces(diff)) {
    return false;
  }
  const before = div._gxTitle || "", after = titleText(diff.layout);
  // the same markup and words; only numbers outside the tags may differ
  const skeleton = (text) => text.replace(/(<[^>]*>)|\d[\d,]*/g, (m, tag) => tag || "#");
  if (skeleton(before) !== skeleton(after)) return false;
  const title = div.querySelector(".gtitle");
  if (!title) return false;
  const numbers = after.replace(/<[^>]*>/g, "").match(DIGITS) || [];
  const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  const found = nodes.reduce((n, node) => n + (node.nodeValue.match(DIGITS) || []).length, 0);
  if (found !== numbers.length) return false;          // not the text it was drawn from
  let next = 0;
  for (const node of nodes) node.nodeValue = node.nodeValue.replace(DIGITS, () => numbers[next++]);
  div._gxTitle = after;
  return true;
}

function sameTraces(diff) {
  return (diff.data || []).every(([index, attrs]) => index >= 0 && !Object.keys(attrs).length);
}

function unchanged(diff) {
  return !Object.keys(diff.layout || {}).length && sameTraces(diff);
}

function fixSize(div, layout) {
  if (layout.height) div.style.height = layout.height + "px";
}

function asArray(values) {
  return Array.isArray(values) ? values : Array.from(values || []);
}

function appendPoints(fig, pending) {
  pending.x.forEach((xs, i) => {
    const trace = fig.data[i];
    if (!trace) return;
    trace.x = asArray(trace.x).concat(xs);
    trace.y = asArray(trace.y).concat(pending.y[i]);
  });
}

function thin(fig) {
  for (const trace of fig.data) {
    const x = asArray(trace.x), y = asArray(trace.y);
    if (x.length <= CHART_MAX_POINTS) continue;
    const keep = (_, i) => i % 2 === 0 || i === x.length - 1;
    trace.x = x.filter(keep);
    trace.y = y.filter(keep);
  }
}

export default function (component) {
  const { data, parentElement, setStateValue, key } = component;
  let player = PLAYERS.get(key);
  if (!player || player.parent !== parentElement) {
    if (player && player.root.isConnected === false) player.stop();
    player = new Player(parentElement);
    PLAYERS.set(key, player);
  }
  player.setState = setStateValue;
  player.receive(data);
}
