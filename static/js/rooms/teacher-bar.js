// The teacher's bar: the room's code (large, to read aloud), the join address, its QR code (drawn on
// the server), and how many students are connected and exploring. countsText is pure (node --test).

export function countsText(presence, strings) {
  const { connected = 0, exploring = 0, joined = 0 } = presence ?? {};
  return strings.teach_counts.replace("{connected}", connected).replace("{exploring}", exploring)
    .replace("{joined}", joined);
}

/** Build the bar inside container; returns {update(presence)}. Text only through textContent. */
export function mountTeacherBar(container, room, strings) {
  container.replaceChildren();
  container.classList.add("room-bar-teacher");
  const code = document.createElement("p");
  code.className = "room-code";
  code.setAttribute("aria-label", strings.teach_code);
  code.textContent = room.code;
  const where = document.createElement("p");
  where.className = "room-url";
  where.textContent = `${strings.teach_join_at}: ${room.join_url}`;
  const qr = document.createElement("img");
  qr.className = "room-qr";
  qr.src = room.qr_url;
  qr.alt = strings.teach_qr;
  const counts = document.createElement("p");
  counts.className = "room-counts";
  counts.setAttribute("role", "status");
  counts.textContent = countsText(null, strings);
  container.append(code, qr, where, counts);
  return { update(presence) { counts.textContent = countsText(presence, strings); } };
}
