// The review page: the share of traffic auto-accepted (live chart), match, the review queue
// (one item per query with its count; accept / reject / correct to…, by mouse or keys a / r /
// c / n; audit samples and conflicts flagged), and the calibration view with the audit of
// auto-accept precision and a refit button. No build step.
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

// Reference titles by id, fetched once: a title is shown where an id would be.
const titles = new Map();
function title(id) {
  return `<span class="title" data-id="${esc(id)}" title="${esc(id)}">${esc(titles.get(id) ?? id)}</span>`;
}
async function fillTitles(root) {
  const spans = [...root.querySelectorAll(".title")];
  const missing = [...new Set(spans.map((s) => s.dataset.id).filter((id) => !titles.has(id)))];
  await Promise.all(missing.map(async (id) => {
    const ref = await quiet(`/v1/references/${encodeURIComponent(id)}`);
    titles.set(id, ref ? ref.text : id);
  }));
  for (const s of spans) s.textContent = titles.get(s.dataset.id) ?? s.dataset.id;
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
    <span class="what"><b>${title(m.id)}</b><small>matched “${esc(m.text)}”${m.kind ? ` (${esc(m.kind)})` : ""}</small></span>
    <span class="actions">${feedbackButtons(remember({ query: res.query, shown_id: top, id: m.id,
      candidates: cands, audit: false }))}</span></li>`).join("");
  fillTitles($("results")).catch(() => {});
  loadQueue();
}

let current = 0;  // the queue item the keys act on
async function loadQueue() {
  const q = await api("GET", "/v1/review-queue?limit=200");
  $("queue-count").textContent = `${q.total ?? q.items.length} waiting` +
    (q.total > q.items.length ? `, the first ${q.items.length} shown` : "");
  $("queue").innerHTML = q.items.map((m) => {
    const tags = (m.audit ? '<span class="audit-tag" title="a random sample of all top matches: your answer certifies the bands and, for an auto-accepted match, checks the certified precision">audit</span>' : "") +
      (m.conflict && m.conflict.length ? `<span class="conflict-tag" title="reviews gave this query to ${m.conflict.length} references: nothing was learned">conflict</span>` : "");
    const shown = m.id ? `<b>${title(m.id)}</b><small>matched “${esc(m.text)}” · ${m.probability === null ? "uncalibrated" : `${(+m.probability).toFixed(3)} ${esc(m.band)}`}</small>`
      : `<b>conflict:</b> ${m.conflict.map(title).join(" / ")}`;
    return `<li class="qitem${m.audit ? " audit" : ""}">
    <span class="count" title="times seen, last ${new Date(m.last_seen * 1000).toLocaleString()}">×${m.count}</span>
    <span class="q">${tags}${esc(m.query)}</span><span class="shown">${shown}</span>
    <span>${bar(m)}</span><span class="actions">${feedbackButtons(remember({ query: m.query, shown_id: m.id, id: m.id,
      candidates: m.candidates || [], audit: !!m.audit }))}</span></li>`;
  }).join("") || "<li>empty</li>";
  current = Math.min(current, Math.max(0, q.items.length - 1));
  markCurrent();
  fillTitles($("queue")).catch(() => {});
}

function queueItems() { return [...document.querySelectorAll("#queue li.qitem")]; }
function markCurrent() {
  const all = queueItems();
  all.forEach((li, n) => li.classList.toggle("current", n === current));
  if (all[current]) all[current].scrollIntoView({ block: "nearest" });
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
  const res = await api("POST", "/v1/match?count=false", { query: text, k: 5 });  // not traffic
  for (const m of res.matches) if (!found.some((f) => f.id === m.id)) found.push(m);
  const list = span.querySelector(".fixlist");
  list.dataset.for = text;
  list.innerHTML = found.map((m) =>
    `<li><button class="pick" data-id="${esc(m.id)}">${title(m.id)}</button> <small>${esc(m.text)}</small></li>`).join("");
  await fillTitles(list);
}

let fixTimer = null;
document.addEventListener("input", (ev) => {
  const span = ev.target.closest(".fix"); if (!span) return;
  clearTimeout(fixTimer); fixTimer = setTimeout(() => searchFix(span).catch(() => {}), 250);
});

document.addEventListener("keydown", (ev) => {
  const span = ev.target.closest && ev.target.closest(".fix");
  if (span) {
    if (ev.key === "Escape") { span.hidden = true; return; }
    if (ev.key !== "Enter") return;
    ev.preventDefault(); clearTimeout(fixTimer);
    const list = span.querySelector(".fixlist"), first = list.querySelector("button.pick");
    // Enter picks the first reference found for what is typed; else it searches
    if (first && list.dataset.for === span.querySelector(".fixq").value.trim()) first.click();
    else searchFix(span).catch(() => {});
    return;
  }
  if (ev.target.closest && ev.target.closest("input, textarea, select, button") &&
      ev.target.tagName !== "BUTTON") return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const li = queueItems()[current]; if (!li) return;
  if (ev.key === "a") li.querySelector("button.fb[data-ok='1']").click();
  else if (ev.key === "r") li.querySelector("button.fb[data-ok='0']").click();
  else if (ev.key === "c") { ev.preventDefault(); li.querySelector("button.fixbtn").click(); }
  else if (ev.key === "n") { current = (current + 1) % queueItems().length; markCurrent(); }
});

document.addEventListener("click", async (ev) => {
  const fb = ev.target.closest(".fb");
  if (fb) {
    const item = items[+fb.dataset.n], ok = fb.dataset.ok === "1";
    // accepting another row than the top match corrects the top match to it
    const decision = ok ? (item.shown_id && item.id !== item.shown_id ? "correct" : "accept") : "reject";
    await send(item, decision, item.id);
    fb.textContent += " ✓"; done(fb, decision); await loadQueue(); refreshAudit(); return;
  }
  const fix = ev.target.closest(".fixbtn");
  if (fix) {
    const span = fix.closest("li").querySelector(`.fix[data-n="${fix.dataset.n}"]`);
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
  if (a.traffic) showTraffic(a.traffic);
}

// The auto-accepted share of the traffic, sampled at each refresh (and one point per day
// from the server), drawn as a sparkline.
const samples = [];
function showTraffic(t) {
  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);
  const today = t.days.length ? t.days[t.days.length - 1] : null;
  const audited = today && today.audited ? `; audited precision today ${(+today.precision).toFixed(3)} ` +
    `(95 % interval ${(+today.low).toFixed(3)}–${(+today.high).toFixed(3)}, ${today.audited} audits)` : "";
  $("traffic").innerHTML = `<b>${pct(t.auto_share)}</b> of ${t.queries.toLocaleString()} queries ` +
    `auto-accepted since the server started${audited}<br>reviews: ${t.reviews} ` +
    `(settling ${t.settled.toLocaleString()} queries); per day: ` +
    (t.days.map((d) => `${esc(d.day)} ${pct(d.auto_share)}, ${d.reviews} reviews`).join(" · ") || "–");
  if (t.auto_share !== null && t.auto_share !== undefined) samples.push(t.auto_share);
  if (samples.length > 120) samples.shift();
  const pts = (samples.length ? samples : [0]).map((v, i, all) =>
    `${(all.length === 1 ? 240 : (i * 236) / (all.length - 1)) + 2},${46 - v * 44}`);
  $("autochart").innerHTML = `<line x1="0" y1="2" x2="240" y2="2" stroke="#ddd"/>` +
    `<polyline fill="none" stroke="#2e9d46" stroke-width="2" points="${pts.join(" ")}"/>`;
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

$("reliability").addEventListener("load", () => { $("reliability").hidden = false; });
$("reliability").addEventListener("error", () => { $("no-reliability").hidden = false; });
(async () => {
  showRole();
  $("reliability").src = "/v1/calibration/reliability.png";
  setInterval(() => { refreshAudit(); }, 15000);
  refreshCalibration();
  loadQueue().catch(() => {});
})();
