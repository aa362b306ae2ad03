// dualrec's page: shows the state the app publishes, sends the person's actions.
// Every string from the app (names come from other devices) is set as text, never as HTML.
"use strict";

let state = null;
let court = null; // the court's page of the last check (HTML), to save
let local = null; // "meetings" or "check": screens of this page, over the app's screen
let confirming = false;
const $ = (id) => document.getElementById(id);
const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };
const all = (cls, text) => document.querySelectorAll("." + cls).forEach((el) => setText(el, text));

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  if (!r.ok) {
    let why = "Something went wrong (" + r.status + ").";
    try { why = (await r.json()).error || why; } catch (_) { /* not JSON */ }
    showError(why);
    return null;
  }
  return r.status === 204 ? {} : r.json();
}

function showError(text) {
  const e = $("error");
  setText(e, text || "");
  e.hidden = !text;
}

function show(screen) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== screen;
  if (document.body.dataset.screen !== screen) {
    document.body.dataset.screen = screen;
    setText($("status"), screen.replace("_", " "));
  }
}

function device(d) {
  return d.name + " (" + d.fingerprint + ")";
}

function render() {
  if (!state) return;
  if (state.closed) { show("closed"); return; }
  setText($("who"), state.name ? "This device: " + state.name : "");
  all("fingerprint", state.fingerprint);
  all("me", state.name || "");
  if (local) { show(local); return; }
  show(state.screen);
  if (state.screen !== "find" && state.screen !== "recording") showError(state.error);
  if (state.screen === "ready") renderReady();
  if (state.screen === "find") renderFind();
  if (state.screen === "recording") renderRecording();
  if (state.screen === "done") renderDone();
}

function renderReady() {
  setText($("input"), state.input || state.input_error || "opening…");
  const select = $("input-choice");
  const key = state.inputs.map((i) => i.id + (i.chosen ? "*" : "")).join("|");
  if (select.dataset.items !== key) {
    select.dataset.items = key;
    select.replaceChildren(...state.inputs.map((i) => {
      const o = document.createElement("option");
      o.value = i.id;
      o.textContent = i.name;
      o.selected = i.chosen;
      return o;
    }));
  }
  select.hidden = state.inputs.length < 2;
  $("level").value = state.level_db;
  setText($("folder"), state.folder);
  const h = state.hours_of_room;
  setText($("room"), h == null ? "" : "Room for about " + (h >= 10 ? Math.floor(h) : h.toFixed(1)) + " hours of recording.");
}

function renderFind() {
  const list = $("found");
  const items = state.found.map((d) => d.name + "|" + d.fingerprint + "|" + d.remembered).join(";");
  if (list.dataset.items !== items) {
    list.dataset.items = items;
    list.replaceChildren();
    for (const d of state.found) {
      const li = document.createElement("li");
      li.textContent = device(d) + (d.remembered ? " · remembered" : " · new");
      list.appendChild(li);
    }
    if (!state.found.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "None yet.";
      list.appendChild(li);
    }
  }
  $("help").hidden = !state.nothing_found;
  setText($("my-address"), state.addresses.join("  or  ") || "…");
  drawQr(state.address_qr);
  const n = $("notice");
  setText(n, state.notice || "");
  n.hidden = !state.notice;
  const q = state.question;
  $("question").hidden = !q;
  $("q-record").hidden = !q || q.kind !== "record";
  $("q-code").hidden = !q || q.kind !== "same_code";
  if (q) {
    all("q-name", q.device.name);
    all("q-fp", q.device.fingerprint);
    setText($("q-seen"), q.remembered ? "remembered" : "new");
    setText($("code"), q.code || "");
    setText($("find-title"), q.kind === "same_code" ? "Pairing" : "Found a device");
  } else {
    setText($("find-title"), "Looking for the other device on this network…");
  }
}

function drawQr(rows) {
  const c = $("qr");
  c.hidden = !rows || !rows.length;
  if (c.hidden || c.dataset.rows === rows.join("")) return;
  c.dataset.rows = rows.join("");
  const n = rows.length + 8;
  const scale = Math.floor(200 / n);
  c.width = c.height = n * scale;
  const g = c.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = "#000";
  rows.forEach((row, y) => [...row].forEach((bit, x) => {
    if (bit === "1") g.fillRect((x + 4) * scale, (y + 4) * scale, scale, scale);
  }));
}

function renderRecording() {
  const l = state.live;
  if (!l) return;
  const stopped = l.state !== "recording";
  setText($("rec-state"), l.state === "recording" ? "● Recording" : l.state === "stopping" ? "■ Stopping" : "■ Stopped");
  $("rec-state").className = stopped ? "stopped" : "rec";
  setText($("elapsed"), l.elapsed);
  const [name, fp] = l.peer || ["the other device", ""];
  setText($("peer-name"), name);
  setText($("peer-fp"), fp);
  setText($("link"), l.link_up
    ? "● connected" + (l.last_proof_secs == null ? ", no proof back yet" : ", last proof " + l.last_proof_secs.toFixed(1) + " s ago")
    : "○ not answering: still recording; the proofs will follow");
  $("rec-level").value = l.level_db;
  setText($("witnessed"), "The other device has confirmed " + l.witnessed + " of " + l.committed + " seconds recorded here.");
  setText($("peer-witnessed"), l.peer_witnessed + " seconds of its recording witnessed here.");
  replaceList($("warnings"), l.warnings);
  replaceList($("messages"), l.messages);
  if (stopped) confirming = false;
  $("stop-area").hidden = stopped || confirming;
  $("confirm-stop").hidden = !confirming;
  setText($("confirm-text"), "Stop recording now? This also ends the recording on " + name + "'s device; their screen will say so.");
  $("stopping").hidden = l.state !== "stopping";
}

function replaceList(ul, items) {
  const key = items.join("\n");
  if (ul.dataset.items === key) return;
  ul.dataset.items = key;
  ul.replaceChildren(...items.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
}

function renderDone() {
  const d = state.done;
  if (!d) { setText($("done-summary"), ""); return; }
  setText($("done-summary"), d.seconds + " seconds recorded; " + d.witnessed + " confirmed by the other device; the end was signed by " + (d.ended_together ? "both devices." : "this device only."));
  setText($("done-recording"), d.recording);
  setText($("done-evidence"), d.evidence);
  $("export").href = exportLink(d.folder);
}

function exportLink(folder) {
  return "/api/export?folder=" + encodeURIComponent(folder);
}

async function showMeetings() {
  const r = await fetch("/api/meetings");
  if (!r.ok) { showError("The meetings cannot be listed."); return; }
  const { meetings } = await r.json();
  const ul = $("meeting-list");
  ul.replaceChildren();
  if (!meetings.length) {
    const li = document.createElement("li");
    li.textContent = "No meetings recorded on this device yet.";
    ul.appendChild(li);
  }
  for (const m of meetings) {
    const li = document.createElement("li");
    const who = m.with.map(device).join(", ");
    const p = document.createElement("p");
    p.textContent = m.when + " · with " + who + " · " + m.length + " · " + m.state;
    li.appendChild(p);
    if (m.state === "interrupted") {
      const hint = document.createElement("p");
      hint.textContent = "Interrupted (a crash or power cut). Record again with the same device to rejoin it, or finish it now, alone.";
      li.appendChild(hint);
      const f = document.createElement("button");
      f.type = "button";
      f.textContent = "Finish it now";
      f.className = "finish-meeting";
      f.addEventListener("click", async () => {
        const r = await post("/api/finish", { folder: m.folder });
        if (r) { showMeetings(); }
      });
      li.appendChild(f);
    }
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Check this recording";
    b.className = "check-meeting";
    b.addEventListener("click", () => check(m.folder));
    li.appendChild(b);
    const a = document.createElement("a");
    a.className = "button";
    a.href = exportLink(m.folder);
    a.setAttribute("download", "");
    a.textContent = "Export for a solicitor";
    li.appendChild(a);
    ul.appendChild(li);
  }
  local = "meetings";
  render();
}

async function check(folder) {
  checking();
  showReport(await post("/api/check", { folder }));
}

function checking() {
  setText($("check-verdict"), "Checking…");
  $("check-verdict").className = "";
  setText($("report"), "");
  court = null;
  $("save-court").hidden = true;
  local = "check";
  render();
}

async function checkFiles() {
  const form = new FormData();
  form.append("recording", $("file-recording").files[0]);
  for (const f of $("file-evidence").files) form.append("evidence", f);
  if ($("file-other").files.length) form.append("other", $("file-other").files[0]);
  checking();
  const r = await fetch("/api/check-files", { method: "POST", body: form });
  if (!r.ok) {
    let why = "The files could not be checked (" + r.status + ").";
    try { why = (await r.json()).error || why; } catch (_) { /* not JSON */ }
    showError(why);
    local = "check_files";
    render();
    return;
  }
  showReport(await r.json());
}

function showReport(r) {
  if (!r) { local = null; render(); return; }
  let verdict = r.intact ? "Complete and unaltered: all three checks hold." : "Not everything holds: read the report below.";
  if (r.same === false) verdict += " The two recordings do not sound the same everywhere: read the report below.";
  if (r.same === true) verdict += " No second sounds different in the two recordings.";
  if (r.not_compared) verdict += " The other recording could not be compared: " + r.not_compared;
  setText($("check-verdict"), verdict);
  $("check-verdict").className = r.intact && r.same !== false && !r.not_compared ? "ok" : "warning";
  setText($("report"), r.text);
  court = r.court;
  $("save-court").hidden = !court;
}

// The court's page of the last check, saved as a file the person can print or send.
function saveCourt() {
  if (!court) return;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([court], { type: "text/html" }));
  a.download = "dualrec-report.html";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function wire() {
  $("name-form").addEventListener("submit", (e) => { e.preventDefault(); post("/api/name", { name: $("name").value }); });
  $("find").addEventListener("click", () => post("/api/find", {}));
  $("input-choice").addEventListener("change", (e) => post("/api/input", { id: e.target.value }));
  $("connect").addEventListener("click", () => post("/api/find", { address: $("address").value }));
  const answer = (yes) => state.question && post("/api/answer", { id: state.question.id, yes });
  $("q-yes").addEventListener("click", () => answer(true));
  $("q-no").addEventListener("click", () => answer(false));
  $("same-code").addEventListener("click", () => answer(true));
  $("different-code").addEventListener("click", () => answer(false));
  $("cancel").addEventListener("click", () => post("/api/cancel"));
  $("stop").addEventListener("click", () => { confirming = true; render(); $("stop-no").focus(); });
  $("stop-no").addEventListener("click", () => { confirming = false; render(); });
  $("stop-yes").addEventListener("click", () => { confirming = false; post("/api/stop"); });
  $("stop-waiting").addEventListener("click", () => post("/api/stop"));
  $("home").addEventListener("click", () => post("/api/home"));
  $("check-now").addEventListener("click", () => state.done && check(state.done.folder));
  $("show-meetings").addEventListener("click", showMeetings);
  $("back").addEventListener("click", () => { local = null; render(); });
  $("back-from-check").addEventListener("click", () => { local = null; render(); });
  $("save-court").addEventListener("click", saveCourt);
  $("show-check-files").addEventListener("click", () => { showError(""); local = "check_files"; render(); });
  $("back-from-files").addEventListener("click", () => { local = null; render(); });
  $("files-form").addEventListener("submit", (e) => { e.preventDefault(); checkFiles(); });
  $("quit").addEventListener("click", () => {
    const busy = state && (state.screen === "recording" || state.screen === "find");
    if (busy && !window.confirm("Quit dualrec? This stops the meeting on both devices.")) return;
    post("/api/quit");
  });
  const events = new EventSource("/events");
  events.onmessage = (e) => { state = JSON.parse(e.data); render(); };
  events.onerror = () => { if (state && state.closed) events.close(); };
}

document.addEventListener("DOMContentLoaded", wire);
