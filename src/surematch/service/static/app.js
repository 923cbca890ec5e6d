// The review page: match, review queue (accept / reject / correct to…, audit samples flagged),
// calibration view with the audit of auto-accept precision and a refit button. No build step.
const $ = (id) => document.getElementById(id);
$("apikey").value = localStorage.getItem("surematchKey") || "";
$("apikey").addEventListener("change", () => {
  localStorage.setItem("surematchKey", $("apikey").value); showRole();
});

// The page shows only what the key's role allows (style.css hides the rest): read keys see
// no review buttons, only admin keys see the refit.
async function showRole() {
  const r = await fetch("/v1/key", { headers: headers() }).catch(() => null);
  const who = r && r.ok ? await r.json() : { role: null };
  document.body.dataset.role = who.role || "none";
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apikey").value; if (key) h["X-API-Key"] = key;
  return h;
}

async function api(method, path, body) {
  const r = await fetch(path, { method, headers: headers(), body: body && JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { $("error").textContent = `${r.status}: ${data.detail || r.statusText}`; throw data; }
  $("error").textContent = ""; return data;
}

async function quiet(path) {  // a GET whose failure is no error to show (e.g. an id lookup)
  const r = await fetch(path, { headers: headers() });
  return r.ok ? r.json() : null;
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

function esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); }

// Every reviewable item: {query, shown_id (the top match shown), id (this row's reference),
// candidates, audit}; buttons name it by its number.
const items = [];
function remember(item) { items.push(item); return items.length - 1; }

function feedbackButtons(n) {
  return `<button data-n="${n}" data-ok="1" class="fb">accept</button>` +
         `<button data-n="${n}" data-ok="0" class="fb">reject</button>` +
         `<button data-n="${n}" class="fixbtn">correct to…</button>` +
         `<span class="fix" data-n="${n}" hidden><input class="fixq" placeholder="search a reference or type its id">` +
         `<ul class="fixlist"></ul></span>`;
}

function candidates(matches) {
  return matches.slice(0, 10).map((m) => ({ id: m.id, text: m.text ?? null,
    probability: m.probability ?? null, band: m.band ?? null }));
}

async function runMatch(ev) {
  ev.preventDefault();
  const res = await api("POST", "/v1/match", { query: $("query").value, k: +$("k").value,
                                              filter: parseFilter($("filters").value) });
  $("rules").textContent = res.rules_fired.length ? `rules fired: ${res.rules_fired.join(", ")}` : "";
  const top = res.matches.length ? res.matches[0].id : null, cands = candidates(res.matches);
  $("results").innerHTML = res.matches.map((m) => `<li class="match">${bar(m)}
    <span class="num">${(m.probability ?? m.similarity).toFixed(3)}</span>
    <span class="band-tag ${m.band || "none"}">${m.band || "uncalibrated"}</span>
    <span class="what"><b>${esc(m.text)}</b><br><small title="${esc(m.id)}">${esc(m.id)}</small></span>
    <span class="actions">${feedbackButtons(remember({ query: res.query, shown_id: top, id: m.id,
      candidates: cands, audit: false }))}</span></li>`).join("");
  loadQueue();
}

async function loadQueue() {
  const q = await api("GET", "/v1/review-queue");
  $("queue").innerHTML = q.items.map((m) => `<li class="qitem${m.audit ? " audit" : ""}">
    ${m.audit ? '<span class="audit-tag" title="a random sample of all top matches: your answer certifies the bands and, for an auto-accepted match, checks the certified precision">audit</span>' : ""}
    ${esc(m.query)} → <b>${esc(m.text)}</b> (${(m.probability ?? 0).toFixed(3)}, ${esc(m.band)})
    ${feedbackButtons(remember({ query: m.query, shown_id: m.id, id: m.id,
      candidates: m.candidates || [], audit: !!m.audit }))}</li>`).join("") || "<li>empty</li>";
}

async function send(item, decision, correctedId) {
  const body = { query: item.query, decision, candidates: item.candidates, audit: item.audit };
  if (decision === "correct") {
    body.corrected_id = correctedId;
    if (item.shown_id && item.shown_id !== correctedId) body.shown_id = item.shown_id;
  } else {
    body.shown_id = item.id;
  }
  await api("POST", "/v1/feedback", body);
}

function done(el, label) {
  const li = el.closest("li.match, li.qitem"); li.classList.add("done");
  const tag = document.createElement("span"); tag.className = "done-tag"; tag.textContent = ` ${label} ✓`;
  li.appendChild(tag);
}

async function searchFix(span) {
  const text = span.querySelector(".fixq").value.trim(); if (!text) return;
  const found = [];
  const byId = await quiet(`/v1/references/${encodeURIComponent(text)}`);
  if (byId) found.push({ id: byId.id, text: byId.text });
  const res = await api("POST", "/v1/match", { query: text, k: 5 });
  for (const m of res.matches) if (!found.some((f) => f.id === m.id)) found.push(m);
  span.querySelector(".fixlist").innerHTML = found.map((m) =>
    `<li><button class="pick" data-id="${esc(m.id)}">${esc(m.text)}</button> <small>${esc(m.id)}</small></li>`).join("");
}

let fixTimer = null;
document.addEventListener("input", (ev) => {
  const span = ev.target.closest(".fix"); if (!span) return;
  clearTimeout(fixTimer); fixTimer = setTimeout(() => searchFix(span).catch(() => {}), 250);
});

document.addEventListener("keydown", (ev) => {
  const span = ev.target.closest(".fix"); if (!span || ev.key !== "Enter") return;
  ev.preventDefault(); clearTimeout(fixTimer); searchFix(span).catch(() => {});
});

document.addEventListener("click", async (ev) => {
  const fb = ev.target.closest(".fb");
  if (fb) {
    const item = items[+fb.dataset.n], ok = fb.dataset.ok === "1";
    // accepting another row than the top match corrects the top match to it
    const decision = ok ? (item.shown_id && item.id !== item.shown_id ? "correct" : "accept") : "reject";
    await send(item, decision, item.id);
    fb.textContent += " ✓"; done(fb, decision); loadQueue(); refreshAudit(); return;
  }
  const fix = ev.target.closest(".fixbtn");
  if (fix) {
    const span = fix.parentElement.querySelector(`.fix[data-n="${fix.dataset.n}"]`);
    span.hidden = !span.hidden; if (!span.hidden) span.querySelector(".fixq").focus(); return;
  }
  const pick = ev.target.closest(".pick");
  if (pick) {
    const span = pick.closest(".fix"), item = items[+span.dataset.n];
    if (pick.dataset.id === item.shown_id) await send(item, "accept");
    else await send(item, "correct", pick.dataset.id);
    span.hidden = true; done(span, `corrected to ${pick.textContent}`); loadQueue(); refreshAudit();
  }
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
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="v-${esc(k)}">${esc(typeof v === "number" ? +v.toFixed(4) : v)}</td></tr>`);
    const fb = (c.report || {}).feedback;
    const from = fb ? `<p>fitted on ${fb.reviews} reviews (${fb.audit_reviews} audit); bands certified on: ${esc(fb.bands_certified_on)}</p>` : "";
    const said = (cal.guarantees || {})[kind];
    const guarantee = said ? `<p class="guarantee">${esc(said)}</p>` : "";
    parts.push(`<h3>${kind}</h3>${guarantee}${from}<table>${rows.join("")}</table>`);
  }
  $("calibration").innerHTML = parts.join("") || "the model is not calibrated (run surematch calibrate)";
}

function showAudit(a) {
  const p = a.precision === null ? "–" : (+a.precision).toFixed(3);
  $("audit").innerHTML = `<p class="audit-line">auto-accept audit: ${a.n} audited, ${a.right} right, ` +
    `precision ${p} (95 % interval ${(+a.low).toFixed(3)}–${(+a.high).toFixed(3)}), ` +
    `certified ${esc(a.target)} — ${esc(a.message)}</p>`;
  $("alarm").hidden = !a.alarm;
  $("alarm").textContent = a.alarm ? a.message : "";
}

async function refreshAudit() { try { showAudit(await api("GET", "/v1/audit")); } catch (e) {} }
async function refreshCalibration() {
  try { showCalibration(await api("GET", "/v1/calibration")); } catch (e) {}
  refreshAudit();
}

$("refit").addEventListener("click", async () => {
  $("refit-status").textContent = "refitting…"; $("refit-warnings").innerHTML = "";
  const body = {}, target = $("refit-target").value;
  if (target) body.target_precision = +target;
  try {
    const out = await api("POST", "/v1/calibration/refit", body);
    $("refit-status").textContent = `refitted (calibration ${out.calibration_id})`;
    $("refit-warnings").innerHTML = out.warnings.map((w) => `<li>${esc(w)}</li>`).join("");
    showCalibration(out.calibration); refreshAudit(); loadQueue().catch(() => {});
  } catch (e) {
    $("refit-status").textContent = `not refitted: ${e.detail || "error"}`;
  }
});

(async () => {
  showRole();
  $("reliability").src = "/v1/calibration/reliability.png";
  refreshCalibration();
  loadQueue().catch(() => {});
})();
