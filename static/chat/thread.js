// The open conversation as the server tells it (docs/websocket.md): which messages
// exist, their text and status, the sends it has not confirmed yet and the summaries.
// Frames are applied here with no DOM; messages.js draws what changed.

/** One message: `data` is its JSON, `seq` the last reply frame applied to its text. */
class Record {
  constructor(data, pending = false) {
    this.data = data;
    this.pending = pending;
    this.seq = undefined;
  }
}

/**
 * What a frame changed, for the view: `reset` (redraw everything), `records` (added or
 * changed), `removed`, a new `summary`, `streamed` (only text grew: draw it on the
 * next animation frame, not now) and `older` (a page of older messages, oldest first,
 * now before all the others).
 */
export class Change {
  constructor({ reset = false, records = [], removed = [], summary = null, streamed = false, older = [] } = {}) {
    this.reset = reset;
    this.records = records;
    this.removed = removed;
    this.summary = summary;
    this.streamed = streamed;
    this.older = older;
  }
}

export class Thread {
  constructor() {
    this.saved = new Map(); // message id -> Record, in the conversation's order
    this.pending = new Map(); // client_id -> Record of a send not yet confirmed
    this.summaries = [];
    // The history holds the newest page; `hasMore`: older visible messages exist on
    // the server. `epoch` grows with every reset, so a page asked for before one is
    // not put into the history that replaced it.
    this.hasMore = false;
    this.epoch = 0;
  }

  /** Apply one server frame; return the Change, or null when it changed nothing here. */
  apply(frame) {
    switch (frame.type) {
      case "conversation.history":
        this.reset(frame.messages || [], frame.summaries || [], frame.streaming || null);
        this.hasMore = Boolean(frame.has_more);
        return new Change({ reset: true });
      case "message.created": {
        const removed = this.remove(frame.superseded || []);
        const records = [frame.user, frame.assistant]
          .filter(Boolean)
          .map((message) => this.upsert(message, { created: true }));
        return new Change({ records, removed });
      }
      case "reply.delta": {
        const record = this.delta(frame);
        return record && new Change({ records: [record], streamed: true });
      }
      case "reply.snapshot": {
        const record = this.snapshot(frame.snapshot || frame);
        return record && new Change({ records: [record] });
      }
      case "reply.search": {
        const record = this.saved.get(frame.message_id);
        if (!record) return null;
        record.data.web_search = frame.results || [];
        return new Change({ records: [record], streamed: true });
      }
      case "reply.tools": {
        const record = this.saved.get(frame.message_id);
        if (!record) return null;
        record.data.tool_calls = frame.tool_calls || [];
        return new Change({ records: [record], streamed: true });
      }
      case "reply.end":
        return new Change({ records: [this.upsert(frame.message)] });
      case "reply.selected": {
        // Another version of the latest answer is shown: it takes the hidden one's place.
        const removed = this.remove(frame.superseded || []);
        return new Change({ records: [this.upsert(frame.message)], removed });
      }
      case "summary.created":
        this.summaries.push(frame.summary);
        return new Change({ summary: frame.summary });
      default:
        return null;
    }
  }

  /** Replace everything with the server's history (and the reply streaming now). */
  reset(messages, summaries = [], streaming = null) {
    this.epoch += 1;
    this.hasMore = false;
    this.saved.clear();
    this.pending.clear();
    for (const message of messages) this.upsert(message);
    if (streaming) this.snapshot(streaming);
    this.summaries = [...summaries];
  }

  /** Return the id of the oldest message held (where the next older page ends). */
  oldestId() {
    for (const id of this.saved.keys()) return id;
    return null;
  }

  /**
   * Put a page of older messages (oldest first, from GET …/messages/?before=) before
   * the ones held; return the Change. A message already held is not added twice.
   */
  prepend(messages, hasMore) {
    const older = [];
    const held = this.saved;
    this.saved = new Map();
    for (const message of messages) {
      if (held.has(message.id) || this.saved.has(message.id)) continue;
      const record = new Record(message);
      this.saved.set(message.id, record);
      older.push(record);
    }
    for (const [id, record] of held) this.saved.set(id, record);
    this.hasMore = Boolean(hasMore);
    return new Change({ older });
  }

  /** Add a user message the server has not confirmed yet; return its Record. */
  addPending(clientId, text, attachments = []) {
    const record = new Record(
      { id: null, client_id: clientId, role: "user", content: text, status: "pending", attachments },
      true,
    );
    this.pending.set(clientId, record);
    return record;
  }

  /** Forget an unconfirmed send (refused); return its Record, if there was one. */
  removePending(clientId) {
    const record = this.pending.get(clientId);
    this.pending.delete(clientId);
    return record || null;
  }

  /**
   * Add or update a saved message (history, message.created, reply.end); return its
   * Record. `created`: from message.created, so a new streaming reply holds seq 0 and
   * takes the deltas that follow; one from the history waits for its reply.snapshot.
   */
  upsert(message, { created = false } = {}) {
    let record = this.saved.get(message.id);
    if (!record && message.client_id && this.pending.has(message.client_id)) {
      // The unconfirmed copy becomes the saved message (and keeps its place).
      record = this.pending.get(message.client_id);
      this.pending.delete(message.client_id);
      record.pending = false;
      this.saved.set(message.id, record);
    }
    if (!record) {
      record = new Record(message);
      if (created && message.status === "streaming") record.seq = 0;
      this.saved.set(message.id, record);
      return record;
    }
    if (created && message.status === "streaming" && record.data.status !== "streaming") {
      // A reply.continue: a finished answer streams again, its text the base that
      // the deltas from seq 1 extend.
      record.seq = 0;
    } else if (message.status === "streaming" && record.data.status === "streaming") {
      // Frames already applied may be ahead of the saved checkpoint: keep the longer.
      if ((record.data.content || "").length > (message.content || "").length) {
        message = { ...message, content: record.data.content, reasoning: record.data.reasoning };
      }
    } else if (message.status !== "streaming") {
      // A final message replaces the streamed text; late frames are ignored.
      record.seq = Infinity;
    }
    record.data = { ...record.data, ...message };
    return record;
  }

  /** Drop superseded messages; return their Records. */
  remove(ids) {
    const removed = [];
    for (const id of ids) {
      const record = this.saved.get(id);
      if (!record) continue;
      this.saved.delete(id);
      removed.push(record);
    }
    return removed;
  }

  /**
   * Append a reply.delta when it is the next frame (seq one more than held) and return
   * the Record. Frames already held are ignored; after a gap, or before the text's base
   * is known (a reply found streaming in the history), the reply.snapshot that follows
   * brings the text.
   */
  delta(frame) {
    const record = this.saved.get(frame.message_id);
    if (!record || record.seq === undefined || frame.seq !== record.seq + 1) return null;
    record.seq = frame.seq;
    record.data.content = (record.data.content || "") + (frame.content || "");
    record.data.reasoning = (record.data.reasoning || "") + (frame.reasoning || "");
    return record;
  }

  /** Take a reply's whole text so far (unless older than what is held). */
  snapshot(snapshot) {
    let record = this.saved.get(snapshot.message_id);
    if (!record) {
      record = this.upsert({ id: snapshot.message_id, role: "assistant", status: "streaming" });
    }
    if (record.seq !== undefined && snapshot.seq < record.seq) return null;
    record.seq = snapshot.seq;
    record.data.status = "streaming";
    record.data.content = snapshot.content || "";
    record.data.reasoning = snapshot.reasoning || "";
    if (snapshot.web_search && snapshot.web_search.length) {
      record.data.web_search = snapshot.web_search;
    }
    if (snapshot.tool_calls && snapshot.tool_calls.length) {
      record.data.tool_calls = snapshot.tool_calls;
    }
    return record;
  }

  isEmpty() {
    return this.saved.size === 0 && this.pending.size === 0;
  }

  /** Return the message streaming now, or null. */
  streaming() {
    for (const record of this.saved.values()) {
      if (record.data.status === "streaming") return record.data;
    }
    return null;
  }

  /** Return whether a saved message came from the send `clientId`. */
  has(clientId) {
    for (const record of this.saved.values()) {
      if (record.data.client_id === clientId) return true;
    }
    return false;
  }

  /** Return the last saved assistant message's Record, or null. */
  lastAssistant() {
    const records = [...this.saved.values()];
    for (let i = records.length - 1; i >= 0; i -= 1) {
      if (records[i].data.role === "assistant") return records[i];
    }
    return null;
  }
}
