// The review page: match, review queue with accept/reject, calibration view. No build step.
const $ = (id) => document.getElementById(id);
$("apikey").value = localStorage.getItem("surematchKey") || "";
$("apikey").addEventListener("change", () => localStorage.setItem("surematchKey", $("apikey").value));

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  const key = $("apikey").value; if (key) headers["X-API-Key"] = key;
  const r = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { $("error").textContent = `${r.status}: ${data.detail || r.statusText}`; throw data; }
  $("error").textContent = ""; return data;
}

function parseFilter(text) {
  const f = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [k, ...v] = part.split("="); f[k.trim()] = v.join("=").trim();
  }
  return Object.keys(f).length ? f : null;
}

function bar(m) {
  const p = m.probability ?? m.similarity ?? 0, band = m.band || "none";
  return `<span class="bar-outer"><span class="bar ${band}" style="width:${Math.max(0, p) * 100}%"></span></span>`;
}

function feedbackButtons(query, id) {
  const q = encodeURIComponent(query), i = encodeURIComponent(id);
  return `<button data-q="${q}" data-id="${i}" data-ok="1" class="fb">accept</button>` +
         `<button data-q="${q}" data-id="${i}" data-ok="0" class="fb">reject</button>`;
}

function esc(s) { return String(s ?? "").replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`); }

async function runMatch(ev) {
  ev.preventDefault();
  const res = await api("POST", "/v1/match", { query: $("query").value, k: +$("k").value,
                                              filter: parseFilter($("filters").value) });
  $("rules").textContent = res.rules_fired.length ? `rules fired: ${res.rules_fired.join(", ")}` : "";
  $("results").innerHTML = res.matches.map((m) => `<li class="match">${bar(m)}
    <span class="num">${(m.probability ?? m.similarity).toFixed(3)}</span>
    <span class="band-tag ${m.band || "none"}">${m.band || "uncalibrated"}</span>
    <span class="what"><b>${esc(m.text)}</b><br><small title="${esc(m.id)}">${esc(m.id)}</small></span>
    <span class="actions">${feedbackButtons(res.query, m.id)}</span></li>`).join("");
  loadQueue();
}

async function loadQueue() {
  const q = await api("GET", "/v1/review-queue");
  $("queue").innerHTML = q.items.map((m) => `<li>${esc(m.query)} → <b>${esc(m.text)}</b>
    (${(m.probability ?? 0).toFixed(3)}) ${feedbackButtons(m.query, m.id)}</li>`).join("") || "<li>empty</li>";
}

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest(".fb"); if (!b) return;
  await api("POST", "/v1/feedback", { query: decodeURIComponent(b.dataset.q),
    id: decodeURIComponent(b.dataset.id), accepted: b.dataset.ok === "1" });
  b.closest("li").classList.add("done"); b.textContent += " ✓"; loadQueue();
});

$("matchform").addEventListener("submit", runMatch);
$("refresh").addEventListener("click", loadQueue);
$("loadqueue").addEventListener("click", async () => {
  const queries = $("batch").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (queries.length) await api("POST", "/v1/match", { queries, k: +$("k").value });
  loadQueue();
});

function showCalibration(cal) {
  const parts = [];
  for (const kind of ["retrieval", "verification"]) {
    const c = cal[kind]; if (!c) continue;
    const rows = Object.entries(c.bands || {}).filter(([, v]) => typeof v !== "object")
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(typeof v === "number" ? +v.toFixed(4) : v)}</td></tr>`);
    parts.push(`<h3>${kind} (threshold ${(+c.threshold).toFixed(3)})</h3><table>${rows.join("")}</table>`);
  }
  $("calibration").innerHTML = parts.join("") || "the model is not calibrated (run surematch calibrate)";
}

(async () => {
  $("reliability").src = "/v1/calibration/reliability.png";
  try { showCalibration(await api("GET", "/v1/calibration")); } catch (e) {}
  loadQueue().catch(() => {});
})();
