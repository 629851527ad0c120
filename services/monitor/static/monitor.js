// The operator's monitor: renders /api/overview and each update from /api/stream (Server-Sent Events).
// Every value is written with textContent: nothing from the data is ever parsed as HTML.
"use strict";

const selected = new Set();
let latest = null;

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fill(tableId, rows, render) {
  const body = document.querySelector(`#${tableId} tbody`);
  const fresh = document.createElement("tbody");
  for (const item of rows) {
    const tr = document.createElement("tr");
    render(tr, item);
    fresh.appendChild(tr);
  }
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(tr, "none");
    td.colSpan = document.querySelectorAll(`#${tableId} thead th`).length;
    fresh.appendChild(tr);
  }
  body.replaceWith(fresh);
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "never";
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function render(view) {
  latest = view;
  const b = view.broker;
  const broker = document.getElementById("broker");
  broker.textContent = b.reachable
    ? `${b.brokers} broker(s), controller ${b.controller}, ${b.under_replicated_partitions} under-replicated ` +
      `and ${b.offline_partitions} offline partition(s) — ${b.ok ? "healthy" : "NOT healthy"}`
    : `Kafka unreachable (${b.error})`;
  broker.className = b.ok ? "good" : "bad";

  fill("feeds", view.feeds, (tr, f) => {
    cell(tr, f.agency); cell(tr, f.adapter);
    cell(tr, `${f.instances_up} of ${f.instances}`, "num");
    cell(tr, f.records_in, "num"); cell(tr, f.events_out, "num");
    cell(tr, Object.entries(f.rejected).map(([s, n]) => `${s}: ${n}`).join(", ") || "0");
    cell(tr, f.events_per_s, "num"); cell(tr, ago(f.last_event_time));
    const state = f.down ? "down" : f.quiet ? "quiet" : "flowing";
    cell(tr, state, f.down ? "bad" : f.quiet ? "warn" : "good");
  });
  fill("reasons", view.rejects_by_reason, (tr, r) => {
    cell(tr, r.agency); cell(tr, r.adapter); cell(tr, r.stage); cell(tr, r.error_class); cell(tr, r.count, "num");
  });
  fill("rejects", view.rejects, (tr, r) => {
    const key = `${r.agency}|${r.adapter}|${r.entry}`;
    const td = document.createElement("td");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = key;
    box.setAttribute("aria-label", `select reject ${r.entry} of ${r.agency}`);
    box.checked = selected.has(key);
    box.disabled = r.status === "delivered" || r.status === "requested";
    box.addEventListener("change", () => (box.checked ? selected.add(key) : selected.delete(key)));
    td.appendChild(box);
    tr.appendChild(td);
    tr.dataset.entry = r.entry;
    cell(tr, r.time); cell(tr, r.agency); cell(tr, r.adapter); cell(tr, r.entry); cell(tr, r.stage);
    cell(tr, r.error_class); cell(tr, r.message); cell(tr, r.origin);
    cell(tr, r.status, r.status === "delivered" ? "good" : r.status === "new" ? "warn" : "bad").className += " status";
  });
  fill("replays", view.replays, (tr, r) => {
    cell(tr, new Date(r.requested_at * 1000).toISOString()); cell(tr, r.agency); cell(tr, r.adapter);
    cell(tr, r.entries.join(", ")); cell(tr, r.error ? `failed: ${r.error}` : r.status);
    cell(tr, r.events, "num"); cell(tr, r.failed_again, "num"); cell(tr, r.skipped, "num");
  });
  fill("lag", view.lag, (tr, g) => {
    cell(tr, g.group); cell(tr, g.topic); cell(tr, g.members, "num"); cell(tr, g.lag_records, "num");
    cell(tr, `${g.lag_seconds_lower_bound ? "≥ " : ""}${g.lag_seconds}`, "num");
  });
  fill("topics", view.topics, (tr, t) => {
    cell(tr, t.topic); cell(tr, t.partitions, "num"); cell(tr, t.end_offset, "num");
    cell(tr, ago(t.last_event_time)); cell(tr, t.under_replicated, t.under_replicated ? "bad num" : "num");
  });
  fill("schemas", view.schemas, (tr, s) => { cell(tr, s.subject); cell(tr, s.versions.join(", ")); });
}

async function replaySelected(event) {
  event.preventDefault();
  const status = document.getElementById("replay-status");
  const groups = new Map();
  for (const key of selected) {
    const [agency, adapter, entry] = key.split("|");
    const k = `${agency}|${adapter}`;
    if (!groups.has(k)) groups.set(k, { agency, adapter, entries: [] });
    groups.get(k).entries.push(entry);
  }
  if (!groups.size) { status.textContent = "Select at least one reject first."; return; }
  const sent = [];
  for (const request of groups.values()) {
    const answer = await fetch("/api/replay", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request),
    });
    const body = await answer.json();
    if (!answer.ok) { status.textContent = `Replay refused: ${body.error}`; return; }
    sent.push(`${request.entries.length} reject(s) of ${request.agency}/${request.adapter}`);
  }
  selected.clear();
  status.textContent = `Replay requested for ${sent.join("; ")}; the outcome appears below when the adapter reports it.`;
}

function connect() {
  const line = document.getElementById("connection");
  const source = new EventSource("/api/stream");
  source.addEventListener("overview", (e) => {
    render(JSON.parse(e.data));
    line.textContent = `Live — updated ${new Date().toLocaleTimeString()}`;
  });
  source.onerror = () => { line.textContent = "Connection lost; reconnecting…"; };
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("replay-form").addEventListener("submit", replaySelected);
  fetch("/api/overview").then((r) => r.json()).then(render).catch(() => {});
  connect();
  setInterval(() => { if (latest) render(latest); }, 10000); // keep the "… ago" columns honest
});
