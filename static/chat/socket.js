// One websocket per open conversation (docs/websocket.md), kept open across network
// trouble: it reconnects with exponential backoff and, once the server has sent the
// history again, resends every frame the server has not acknowledged yet. Sends are
// idempotent by client_id on the server, so a resend never duplicates a message.

import { url } from "./page.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const OPEN_TIMEOUT_MS = 10000;
const DENIED = 4403;
// The session ended (log-out, password changed, deactivated): reconnecting would only
// be refused; unsent frames stay pending (kept in localStorage) for the next sign-in.
const SESSION_ENDED = 4401;

export class ChatSocket {
  /**
   * @param {string} conversationId
   * @param {{onFrame: Function, onStatus: Function, onPendingChange?: Function}} handlers
   * @param {object[]} pending frames (with client_id) still unacknowledged, e.g. from
   *   localStorage after a reload; they are resent after the first history.
   */
  constructor(conversationId, handlers, pending = []) {
    this.conversationId = conversationId;
    this.handlers = handlers;
    this.pending = new Map(pending.map((frame) => [frame.client_id, frame]));
    this.ws = null;
    this.ready = false; // true once this connection's history arrived
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.status("offline");
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${url("socket", this.conversationId)}`;
  }

  status(state) {
    this.handlers.onStatus(state);
  }

  open() {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.ready = false;
    this.status(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    const openTimer = setTimeout(() => ws.close(), OPEN_TIMEOUT_MS);
    ws.addEventListener("open", () => clearTimeout(openTimer));
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(openTimer);
      if (ws !== this.ws) return;
      this.ws = null;
      this.ready = false;
      if (this.closed) return;
      if (event.code === DENIED || event.code === SESSION_ENDED) {
        this.closed = true;
        this.status("denied");
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    // Jitter, so many tabs that lost the server at once do not return in lockstep.
    const delay = base * (0.75 + Math.random() * 0.5);
    this.status(navigator.onLine === false ? "offline" : "reconnecting");
    this.timer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.closed || this.ws) return;
    clearTimeout(this.timer);
    this.open();
  }

  receive(frame) {
    if (frame.type === "conversation.history") {
      this.ready = true;
      this.attempt = 0;
      this.status("online");
      this.handlers.onFrame(frame);
      // The view now shows the server's truth; repeat whatever it has not confirmed.
      for (const pending of this.pending.values()) this.transmit(pending);
      return;
    }
    if (
      (frame.type === "message.created" || frame.type === "error") &&
      frame.client_id &&
      this.pending.has(frame.client_id)
    ) {
      const sent = this.pending.get(frame.client_id);
      this.pending.delete(frame.client_id);
      this.changed();
      frame = { ...frame, sent };
    }
    this.handlers.onFrame(frame);
  }

  transmit(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.ready) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Send a frame that carries a client_id; it is repeated until the server answers. */
  sendTracked(frame) {
    this.pending.set(frame.client_id, frame);
    this.changed();
    this.transmit(frame);
  }

  /** Send a frame once if connected (e.g. reply.stop); return whether it went out. */
  sendNow(frame) {
    return this.transmit(frame);
  }

  changed() {
    this.handlers.onPendingChange?.([...this.pending.values()]);
  }

  /** Close for good (another conversation was opened). */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
  }
}
