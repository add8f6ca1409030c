// A page in a classroom room, with one EventSource (app/routes/rooms.py).
// The teacher's page opens a room and publishes its state; a student's page follows it, can explore
// on its own (state events are kept, not applied) and follow again (the latest state is applied).
// EventSource reconnects by itself and sends Last-Event-ID; the server answers with what was missed
// or with the snapshot, so a student whose wifi dropped lands where the class is.

const json = { "Content-Type": "application/json" };

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : (body.detail?.[0]?.msg ?? response.statusText);
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return body;
}

export const openRoom = () => call("/api/rooms", { method: "POST" });

export const joinRoom = (code, nickname) =>
  call(`/api/rooms/${encodeURIComponent(code)}/join`, { method: "POST", headers: json,
    body: JSON.stringify({ nickname }) });

export const publishState = (code, key, state) =>
  call(`/api/rooms/${code}/state`, { method: "POST", headers: { ...json, "X-Teacher-Key": key },
    body: JSON.stringify(state) });

export const reveal = (code, key, question) =>
  call(`/api/rooms/${code}/reveal`, { method: "POST", headers: { ...json, "X-Teacher-Key": key },
    body: JSON.stringify({ question }) });

export const answer = (code, device, question, value) =>
  call(`/api/rooms/${code}/answers`, { method: "POST", headers: json,
    body: JSON.stringify({ question, answer: value, device }) });

/** Follow a room. handlers: state(state), reveal({question, distribution}), presence(counts),
 *  answers({question, distribution}), status("following" | "exploring" | "reconnecting" | "ended").
 *  A teacher passes watch, the room's watch_token (and gets presence and answers: the key itself never
 *  goes in a URL); a student passes device. */
export function followRoom({ code, device = null, watch = null, handlers = {} }) {
  const query = new URLSearchParams(watch ? { watch } : { device });
  const source = new EventSource(`/api/rooms/${code}/events?${query}`);
  let exploring = false;
  let latest = null;
  const status = (s) => handlers.status?.(s);
  const on = (name, fn) => source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  on("state", (state) => {
    latest = state;
    if (!exploring) handlers.state?.(state);
    status(exploring ? "exploring" : "following");
  });
  on("reveal", (data) => handlers.reveal?.(data));
  on("presence", (data) => handlers.presence?.(data));
  on("answers", (data) => handlers.answers?.(data));
  on("reconnecting", () => status("reconnecting"));
  on("reconnected", () => status(exploring ? "exploring" : "following"));
  on("expired", () => { source.close(); status("ended"); });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) status("ended");
    else status("reconnecting");
  });
  return {
    get exploring() { return exploring; },
    async explore(on) {
      exploring = on;
      if (!on && latest) handlers.state?.(latest);
      status(on ? "exploring" : "following");
      if (device) {
        await call(`/api/rooms/${code}/explore`, { method: "POST", headers: json,
          body: JSON.stringify({ device, exploring: on }) });
      }
    },
    close() { source.close(); },
  };
}
