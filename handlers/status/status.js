"use strict";
const source = document.body.dataset.source;
document.getElementById("source").textContent = source;
const units = ["B", "KiB", "MiB", "GiB"];
function bytes(n) { let i = 0; while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + " " + units[i]; }
function number(n) { return Math.round(n).toLocaleString("en"); }
function set(id, text) { document.getElementById(id).textContent = text; }
function rows(id, counts) {
  const table = document.getElementById(id);
  table.replaceChildren(...Object.entries(counts).sort().map(([key, value]) => {
    const row = document.createElement("tr");
    for (const text of [key, number(value)]) { const cell = document.createElement("td"); cell.textContent = text; row.append(cell); }
    return row;
  }));
}
function chart(name, history) {
  const svg = document.getElementById("chart-" + name);
  const values = history.map(point => point[name]);
  const top = Math.max(...values, 1e-9), width = 300, height = 50;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((value, i) => (i * step).toFixed(1) + "," + (height - 2 - (height - 4) * value / top).toFixed(1));
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.innerHTML = '<polyline points="' + points.join(" ") + '"/>';
  svg.dataset.points = values.length;
}
let polls = 0;
async function poll() {
  try {
    const response = await fetch(source, {cache: "no-store"});
    const data = await response.json();
    const stats = data.statistics, rate = data.rates;
    polls++;
    document.body.dataset.polls = polls;
    document.body.dataset.requests = stats.requests;
    if (document.body.dataset.firstRequests === undefined) document.body.dataset.firstRequests = stats.requests;
    set("requests", number(stats.requests));
    set("accepted", number(stats.accepted));
    set("streams", number(stats.streams));
    set("bytes-sent", bytes(stats.bytes_sent));
    set("timers", number(stats.loop.timers));
    set("iterations", number(stats.loop.iterations));
    set("connections", number(stats.connections));
    set("queued", bytes(stats.queued));
    set("largest-queue", bytes(stats.largest_queue));
    rows("states", stats.by_state);
    rows("closes", stats.closes);
    if (rate) {
      set("requests-rate", number(rate.requests));
      set("sent-rate", bytes(rate.bytes_sent));
      set("received-rate", bytes(rate.bytes_received));
      set("iterations-rate", number(rate.iterations));
      set("select-share", (100 * rate.select_share).toFixed(1) + " %");
    }
    for (const name of ["requests", "bytes_sent", "bytes_received", "iterations", "select_share", "connections", "queued"]) chart(name, data.history);
    set("updated", "updated " + new Date(data.time * 1000).toLocaleTimeString());
    if (data.worker) {
      set("worker", "\u00b7 the whole server's numbers (" + data.workers.length + " of " + data.worker.of +
        " workers), answered by worker " + data.worker.number + " (pid " + data.worker.pid + ")");
      document.body.dataset.worker = data.worker.number;
    }
  } catch (error) {
    set("updated", "cannot reach the server: " + error);
  }
  setTimeout(poll, 1000);
}
poll();
