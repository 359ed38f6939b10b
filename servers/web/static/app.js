// Mien's page: plain DOM code, no framework. Server-sent events arrive over fetch (POST bodies), parsed below.
"use strict";

const state = { media: null, threadId: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body.error) return body.error.message;
    if (body.detail) return JSON.stringify(body.detail);
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

// API keys: when the server asks for one (401), ask the person once and keep it in a same-site cookie, which the
// page's own requests and its <img> and <video> requests then carry (servers/security: cookie mien_api_key).
const plainFetch = window.fetch.bind(window);
window.fetch = async (url, options) => {
  let response = await plainFetch(url, options);
  if (response.status === 401) {
    const key = window.prompt("This Mien server needs an API key with the agent scope (mien keys add NAME --scope agent):");
    if (key && key.trim()) {
      document.cookie = `mien_api_key=${encodeURIComponent(key.trim())}; path=/; SameSite=Strict`;
      response = await plainFetch(url, options);
    }
  }
  return response;
};

async function getJson(url, options) {
  const response = await fetch(url, options);
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

// Read an event stream: calls onEvent(name, data) per event until the stream ends.
async function readEvents(response, onEvent) {
  if (!response.ok) throw new Error(await errorText(response));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

function fmt(seconds) {
  const m = Math.floor(seconds / 60), s = seconds - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function timeLink(seconds) {
  return el("a", { class: "time", onclick: () => seek(seconds), title: "play from here" }, fmt(seconds));
}

function seek(seconds) {
  const player = $("player").querySelector("video, audio");
  if (!player) return;
  player.currentTime = seconds;
  player.play().catch(() => {});
}

function setStatus(text, isError = false) {
  $("file-status").textContent = text;
  $("file-status").className = isError ? "status error" : "status";
}

function showMedia(item) {
  state.media = item;
  const player = $("player");
  player.replaceChildren();
  if (item.kind === "video") player.append(el("video", { src: item.url, controls: "", preload: "metadata" }));
  else if (item.kind === "image") player.append(el("img", { src: item.url, alt: item.name }));
  else player.append(el("audio", { src: item.url, controls: "" }));
  const info = item.kind === "image" ? `${item.width}×${item.height}` : `${item.duration_s.toFixed(1)} s`;
  setStatus(`${item.name}: ${item.kind}, ${info}`);
  $("question").disabled = false;
  $("ask").disabled = false;
}

function progressBar(container, key) {
  let bar = container.querySelector(`[data-stage="${key}"]`);
  if (!bar) {
    bar = el("div", { class: "bar", "data-stage": key }, el("span"), el("progress", { max: "1", value: "0" }));
    container.append(bar);
  }
  return bar;
}

function onProgress(container, data) {
  const bar = progressBar(container, data.stage);
  bar.querySelector("span").textContent = `${data.stage}: ${data.message}`;
  bar.querySelector("progress").value = data.fraction;
}

async function loadOverview(mediaId) {
  $("overview").hidden = true;
  $("progress").replaceChildren();
  const response = await fetch(`/api/media/${mediaId}/overview`);
  await readEvents(response, (name, data) => {
    if (name === "progress") onProgress($("progress"), data);
    else if (name === "done") renderOverview(data);
    else if (name === "error") $("progress").append(el("p", { class: "error" }, data.message));
  });
}

function renderOverview(view) {
  if (!state.media || view.media_id !== state.media.id) return;
  $("progress").replaceChildren();
  $("timeline-title").textContent = state.media.kind === "image" ? "Emotions per person" : "Emotion timeline";
  const timeline = $("timeline");
  timeline.replaceChildren(view.timeline_url
    ? el("img", { src: view.timeline_url, alt: "emotion timeline per person" })
    : el("p", { class: "note" }, "no timeline: no face was read"));
  $("model-note").textContent = view.emotion_model
    ? `emotions: ${view.emotion_model}; action units: ${view.au_source} (estimates)` : "";
  const listOr = (list, items, note) => {
    list.replaceChildren(...items);
    if (!items.length) list.append(el("li", { class: "note empty" }, note || "none"));
  };
  listOr($("transcript"), view.transcript.map((s) => el("li", {}, timeLink(s.start_s), s.text)), view.transcript_note);
  listOr($("intervals"), view.intervals.map((i) => el("li", {}, timeLink(i.onset_s),
    `#${i.person} ${i.kind}-expression ${i.label || "unlabelled"} to ${i.offset_s.toFixed(2)} s` +
    (i.action_units.length ? ` (${i.action_units.join(", ")})` : ""))), view.spotting_note);
  listOr($("identities"), view.identities.map((p) => el("li", {},
    `#${p.person}${p.position ? " (" + p.position + ")" : ""}: ${p.name}`)), view.identity_note);
  if (view.identities.length && view.identity_note) $("identities").append(el("li", { class: "note empty" }, view.identity_note));
  $("overview").hidden = false;
}

function toolItem(run) {
  const item = el("li", { class: run.error ? "error" : "" });
  item.dataset.tool = run.tool;
  updateTool(item, run);
  return item;
}

function updateTool(item, run) {
  let text = run.tool;
  if (run.status === "running") text += " …running";
  else if (run.error) text += ` ✗ ${run.error}`;
  else if (run.cached) text += " (cached evidence)";
  else if (run.seconds !== undefined) text += ` ${run.seconds.toFixed(1)} s`;
  item.textContent = text;
  item.className = run.error ? "error" : "";
}

function renderTurn(node, turn) {
  node.replaceChildren(el("div", { class: "question" }, turn.question));
  if (turn.label) node.append(el("span", { class: "label" }, turn.label));
  node.append(el("div", { class: "answer" }, turn.explanation || "(no explanation)"));
  if (turn.facts.length) node.append(el("ul", { class: "facts" }, ...turn.facts.map((f) => el("li", {},
    el("b", {}, f.id), " ", f.text))));
  if (turn.error) node.append(el("p", { class: "error" }, `no explanation: ${turn.error}`));
  node.append(el("ul", { class: "tools" }, ...turn.tools.map(toolItem)));
  const frames = el("div", { class: "frames" }, ...turn.frames.map((url) => el("img", {
    class: "frame", src: url, alt: "key frame with numbered faces and AU labels",
    onclick: (e) => e.target.classList.toggle("big") })));
  node.append(frames);
  node.append(el("ul", { class: "evidence" }, ...turn.evidence.map((c) => el("li", {},
    `[${c.tool}] ${c.summary}` + (c.action_units.length ? `; AUs (estimates): ${c.action_units.slice(0, 6).join(", ")}` : ""),
    ...(c.times_s.length ? [" at "] : []), ...c.times_s.slice(0, 4).map(timeLink)))));
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || !state.media) return;
  $("ask").disabled = true;
  const node = el("div", { class: "turn pending" }, el("div", { class: "question" }, question));
  const progress = el("div", { class: "turn-progress" });
  const tools = el("ul", { class: "tools" });
  const answer = el("div", { class: "answer" });
  node.append(progress, tools, answer);
  $("turns").append(node);
  try {
    const response = await fetch("/api/ask", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ media_id: state.media.id, question, thread_id: state.threadId }),
    });
    await readEvents(response, (name, data) => {
      if (name === "thread") { state.threadId = data.thread_id; $("thread-label").textContent = `thread ${data.thread_id}`; }
      else if (name === "progress") onProgress(progress, data);
      else if (name === "tool") {
        const found = [...tools.children].find((li) => li.dataset.tool === data.tool);
        if (found) updateTool(found, data); else tools.append(toolItem(data));
      } else if (name === "token") answer.textContent += data.text;
      else if (name === "done") { renderTurn(node, data); node.classList.remove("pending"); }
      else if (name === "error") node.append(el("p", { class: "error" }, data.message));
    });
    $("question").value = "";
  } catch (error) {
    node.append(el("p", { class: "error" }, error.message));
  } finally {
    $("ask").disabled = false;
    loadThreads();
  }
}

async function upload(file) {
  setStatus(`uploading ${file.name}…`);
  try {
    const item = await getJson(`/api/uploads?name=${encodeURIComponent(file.name)}`, {
      method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" },
    });
    startFile(item);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function openPath(event) {
  event.preventDefault();
  try {
    startFile(await getJson("/api/open", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path: $("open-path").value }),
    }));
  } catch (error) {
    setStatus(error.message, true);
  }
}

function startFile(item) {
  showMedia(item);
  newThread();
  loadOverview(item.id).catch((error) => $("progress").append(el("p", { class: "error" }, error.message)));
}

function newThread() {
  state.threadId = null;
  $("turns").replaceChildren();
  $("thread-label").textContent = "new thread";
}

async function loadThreads() {
  const threads = await getJson("/api/threads");
  $("threads").replaceChildren(...threads.map((t) => el("li", {
    class: t.thread_id === state.threadId ? "current" : "", onclick: () => resume(t.thread_id),
  }, t.title, el("small", {}, `${t.media_name} · ${t.turns} turn(s)`))));
}

async function resume(threadId) {
  try {
    const { thread, media } = await getJson(`/api/threads/${threadId}`);
    showMedia(media);
    state.threadId = thread.thread_id;
    $("thread-label").textContent = `thread ${thread.thread_id}`;
    $("turns").replaceChildren(...thread.turns.map((turn) => { const n = el("div", { class: "turn" }); renderTurn(n, turn); return n; }));
    loadThreads();
    await loadOverview(media.id);
  } catch (error) {
    setStatus(error.message, true);
  }
}

$("file").addEventListener("change", (e) => { if (e.target.files.length) upload(e.target.files[0]); });
$("open-form").addEventListener("submit", openPath);
$("ask-form").addEventListener("submit", ask);
$("new-thread").addEventListener("click", newThread);
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask-form").requestSubmit(); }
});
loadThreads().catch(() => {});
