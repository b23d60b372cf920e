// The drawing canvas of the custom dataset: plotly.js (the installed package's, like the
// player's) with the points on a fixed square. A click on empty space adds a point where it
// was clicked, a click on a point removes it, a box or lasso adds points on a fine grid inside
// it. Each edit is sent back as a trigger: {add: [[x, y], ...], remove: [[x, y], ...], n}.
// data (Python -> here): {points: [[x, y], ...], extent, steps}

const PLOT_CONFIG = { displayModeBar: false, responsive: true, showTips: false };
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

function figure(data) {
  const e = data.extent, n = data.steps, xs = [], ys = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      xs.push(-e + (2 * e * i) / (n - 1));
      ys.push(-e + (2 * e * j) / (n - 1));
    }
  }
  const pts = data.points || [];
  return {
    data: [
      { type: "scatter", mode: "markers", x: xs, y: ys, hoverinfo: "skip", name: "grid",
        marker: { size: 8, color: "rgba(0,0,0,0.03)" } },
      { type: "scatter", mode: "markers", x: pts.map((p) => p[0]), y: pts.map((p) => p[1]),
        name: "points", hovertemplate: "(%{x:.2f}, %{y:.2f}): click to remove<extra></extra>",
        marker: { size: 11, color: "#1b7837" } },
    ],
    layout: {
      template: "none", height: 520, margin: { l: 36, r: 10, t: 10, b: 30 }, showlegend: false,
      dragmode: "select", hovermode: "closest", hoverdistance: 8,
      xaxis: { range: [-e - 0.3, e + 0.3], fixedrange: true, zeroline: true, showgrid: true },
      yaxis: { range: [-e - 0.3, e + 0.3], fixedrange: true, zeroline: true, showgrid: true,
               scaleanchor: "x" },
    },
  };
}

const round = (v) => Math.round(v * 100) / 100;
const HIT_PX = 9;           // a click this close to a point's centre is on the point

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let div = parentElement.querySelector(".gx-canvas");
  if (!div) {
    div = document.createElement("div");
    div.className = "gx-canvas";
    parentElement.appendChild(div);
  }
  div.points = data.points || [];
  div.extent = data.extent;
  div.sendEdit = (edit) => { div.edits = (div.edits || 0) + 1; setTriggerValue("edit", { ...edit, n: div.edits }); };
  loadPlotly().then((Plotly) => {
    const fig = figure(data);
    Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
    if (div.wired) return;
    div.wired = true;
    let down = null;
    div.addEventListener("mousedown", (event) => { down = [event.clientX, event.clientY]; }, true);
    div.addEventListener("click", (event) => {
      if (down && Math.hypot(event.clientX - down[0], event.clientY - down[1]) > 4) return;
      const layout = div._fullLayout, xa = layout.xaxis, ya = layout.yaxis;
      const box = div.getBoundingClientRect();
      const px = event.clientX - box.left - xa._offset, py = event.clientY - box.top - ya._offset;
      const e = div.extent;
      const x = xa.p2l(px), y = ya.p2l(py);
      if (Math.abs(x) > e + 0.3 || Math.abs(y) > e + 0.3) return;      // off the canvas
      // a point under the click (within its marker) is removed, else one is added there
      let hit = null, best = HIT_PX;
      for (const p of div.points) {
        const d = Math.hypot(xa.l2p(p[0]) - px, ya.l2p(p[1]) - py);
        if (d <= best) { best = d; hit = p; }
      }
      div.sendEdit(hit ? { remove: [hit] } : { add: [[round(x), round(y)]] });
    });
    div.on("plotly_selected", (event) => {
      const inside = ((event && event.points) || []).filter((p) => p.curveNumber === 0);
      if (inside.length) div.sendEdit({ add: inside.map((p) => [round(p.x), round(p.y)]) });
    });
  });
}
