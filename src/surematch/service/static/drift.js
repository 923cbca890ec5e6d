// The shift banner: shown while GET /v1/drift says the live queries differ from the
// calibration queries (checked on load and every 30 s). Uses headers() and esc() of app.js.
async function refreshDrift() {
  const r = await fetch("/v1/drift", { headers: headers() }).catch(() => null);
  const d = r && r.ok ? await r.json() : null;
  const banner = document.getElementById("drift");
  banner.hidden = !(d && d.alarm);
  if (d && d.alarm) {
    const top = (d.top_differences || []).slice(0, 3)
      .map((t) => `${esc(t.feature)} ${esc(t.direction)}`).join(", ");
    banner.innerHTML = `Live queries differ from the calibration queries (since ${esc(d.since)}, ` +
      `${esc(d.n)} checked; ${top}): the certified precision may not hold. ` +
      "Audit reviews and a refit recertify for this traffic.";
  }
}
refreshDrift();
setInterval(refreshDrift, 30000);
