// The conversation's messages: built with DOM calls, Markdown through render.js,
// streamed text re-rendered at most once per animation frame, and the view kept at the
// bottom only while the reader is there.

import { copyText, renderMarkdown } from "./render.js";
import { t } from "./i18n.js";

const BOTTOM_SLACK_PX = 48;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(action, label, className = "msg-button") {
  const node = el("button", className, label);
  node.type = "button";
  node.dataset.action = action;
  return node;
}

export class MessageView {
  /**
   * @param {HTMLElement} list the <ol> holding messages
   * @param {HTMLElement} scroller the scrolling container
   * @param {{onStop, onRegenerate, onRetry, onEdit, onNotice}} handlers
   */
  constructor(list, scroller, handlers) {
    this.list = list;
    this.scroller = scroller;
    this.handlers = handlers;
    this.entries = new Map(); // message id -> entry
    this.pendingByClient = new Map(); // client_id -> entry (not yet saved)
    this.summaries = [];
    this.dirty = new Set();
    this.frame = 0;
    this.stick = true;
    this.jump = document.getElementById("jump-bottom");
    scroller.addEventListener("scroll", () => {
      this.stick = this.atBottom();
      this.jump.hidden = this.stick;
    });
    this.jump.addEventListener("click", () => this.scrollToBottom(true));
    list.addEventListener("click", (event) => this.onClick(event));
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom(force = false) {
    if (force) this.stick = true;
    if (!this.stick) return;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  /** Replace the whole view with the server's history (and the streaming snapshot). */
  reset(messages, summaries = [], streaming = null) {
    cancelAnimationFrame(this.frame);
    this.dirty.clear();
    this.entries.clear();
    this.pendingByClient.clear();
    this.list.replaceChildren();
    for (const message of messages) this.upsert(message, { render: false });
    if (streaming) this.applySnapshot(streaming, { render: false });
    this.summaries = [];
    for (const summary of summaries) this.addSummary(summary);
    for (const entry of this.entries.values()) this.renderEntry(entry, true);
    this.refreshActions();
    this.scrollToBottom(true);
  }

  isEmpty() {
    return this.entries.size === 0 && this.pendingByClient.size === 0;
  }

  /** Return the message that is streaming now, or null. */
  streaming() {
    for (const entry of this.entries.values()) {
      if (entry.data.status === "streaming") return entry.data;
    }
    return null;
  }

  has(clientId) {
    for (const entry of this.entries.values()) {
      if (entry.data.client_id === clientId) return true;
    }
    return false;
  }

  /** Show a user message the server has not confirmed yet. */
  addPending(clientId, text) {
    const data = {
      id: null,
      client_id: clientId,
      role: "user",
      content: text,
      status: "pending",
    };
    const entry = this.build(data);
    entry.node.classList.add("msg-pending");
    this.pendingByClient.set(clientId, entry);
    this.list.append(entry.node);
    this.renderEntry(entry, true);
    this.refreshActions();
    this.scrollToBottom(true);
  }

  removePending(clientId) {
    const entry = this.pendingByClient.get(clientId);
    if (!entry) return;
    entry.node.remove();
    this.pendingByClient.delete(clientId);
  }

  /**
   * Add or replace a saved message (message.created, reply.end). `created`: it comes
   * from message.created, so a new streaming message holds seq 0 and takes the deltas
   * that follow; one from the history waits for its reply.snapshot instead.
   */
  upsert(message, { render = true, created = false } = {}) {
    let entry = this.entries.get(message.id);
    if (!entry && message.client_id && this.pendingByClient.has(message.client_id)) {
      // The optimistic copy becomes the saved message in place.
      entry = this.pendingByClient.get(message.client_id);
      this.pendingByClient.delete(message.client_id);
      entry.node.classList.remove("msg-pending");
      this.entries.set(message.id, entry);
    }
    if (entry) {
      const wasStreaming = entry.data.status === "streaming";
      // A final message replaces the streamed text; while streaming, frames we already
      // applied may be ahead of the saved checkpoint, so keep the longer text.
      if (message.status === "streaming" && wasStreaming) {
        if ((entry.data.content || "").length > (message.content || "").length) {
          message = { ...message, content: entry.data.content, reasoning: entry.data.reasoning };
        }
      } else if (message.status !== "streaming") {
        entry.seq = Infinity;
      }
      entry.data = { ...entry.data, ...message };
    } else {
      entry = this.build(message);
      if (created && message.status === "streaming") entry.seq = 0;
      this.entries.set(message.id, entry);
      this.list.append(entry.node);
      // Pending user messages stay last until the server confirms them.
      for (const pending of this.pendingByClient.values()) this.list.append(pending.node);
    }
    entry.node.dataset.id = message.id;
    if (render) {
      this.renderEntry(entry, message.status !== "streaming");
      this.refreshActions();
      this.scrollToBottom();
    }
    return entry;
  }

  /** Hide superseded messages. */
  remove(ids) {
    for (const id of ids || []) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      entry.node.remove();
      this.entries.delete(id);
    }
    this.refreshActions();
  }

  /**
   * Append a reply.delta when it is the next frame (seq one more than held). Frames
   * already held are ignored; after a gap, or before the text's base is known (a reply
   * found streaming in the history), the reply.snapshot that follows brings the text.
   */
  applyDelta(frame) {
    const entry = this.entries.get(frame.message_id);
    if (!entry || entry.seq === undefined || frame.seq !== entry.seq + 1) return;
    entry.seq = frame.seq;
    entry.data.content = (entry.data.content || "") + (frame.content || "");
    entry.data.reasoning = (entry.data.reasoning || "") + (frame.reasoning || "");
    this.schedule(entry);
  }

  applySnapshot(snapshot, { render = true } = {}) {
    let entry = this.entries.get(snapshot.message_id);
    if (!entry) {
      entry = this.upsert(
        { id: snapshot.message_id, role: "assistant", status: "streaming" },
        { render: false },
      );
    }
    if (entry.seq !== undefined && snapshot.seq < entry.seq) return;
    entry.seq = snapshot.seq;
    entry.data.status = "streaming";
    entry.data.content = snapshot.content || "";
    entry.data.reasoning = snapshot.reasoning || "";
    if (snapshot.web_search && snapshot.web_search.length) {
      entry.data.web_search = snapshot.web_search;
    }
    if (render) {
      this.schedule(entry);
      this.refreshActions();
    }
  }

  setSearch(messageId, results) {
    const entry = this.entries.get(messageId);
    if (!entry) return;
    entry.data.web_search = results || [];
    this.schedule(entry);
  }

  addSummary(summary) {
    this.summaries.push(summary);
    const node = el("li", "summary-notice");
    node.dataset.summaryId = summary.id;
    const text = el(
      "p",
      "summary-text",
      t("summary_notice", { count: summary.covered_messages }),
    );
    const details = el("details", "summary-details");
    const label = el("summary", "", t("summary_read"));
    const body = el("div", "md summary-body");
    body.append(renderMarkdown(summary.content));
    details.append(label, body);
    node.append(text, details);
    const anchor = this.entries.get(summary.covers_until);
    if (anchor) anchor.node.after(node);
    else this.list.prepend(node);
    // Only the newest summary stands in for the turns before it.
    for (const old of this.list.querySelectorAll(".summary-notice")) {
      old.classList.toggle("summary-old", old !== node);
    }
  }

  schedule(entry) {
    this.dirty.add(entry);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const item of this.dirty) this.renderEntry(item, item.data.status !== "streaming");
      this.dirty.clear();
      this.scrollToBottom();
    });
  }

  build(data) {
    const node = el("li", `msg msg-${data.role}`);
    const head = el("div", "msg-head");
    const role = el("span", "msg-role", data.role === "user" ? t("you") : t("assistant"));
    const model = el("span", "msg-model");
    head.append(role, model);
    const entry = { data, node, model, seq: undefined, editing: false };
    if (data.role === "assistant") {
      entry.reasoning = el("details", "reasoning");
      entry.reasoningLabel = el("summary", "", t("reasoning"));
      entry.reasoningBody = el("div", "md reasoning-body");
      entry.reasoning.append(entry.reasoningLabel, entry.reasoningBody);
      entry.reasoning.hidden = true;
      // Only the reader's own click decides from then on (not our open/close).
      entry.reasoningLabel.addEventListener("click", () => {
        entry.reasoningToggled = true;
      });
      entry.body = el("div", "md msg-body");
      entry.sources = el("div", "sources");
      entry.sources.hidden = true;
    } else {
      entry.body = el("div", "msg-text msg-body");
    }
    entry.status = el("div", "msg-status");
    entry.status.setAttribute("role", "status");
    entry.actions = el("div", "msg-actions");
    node.append(head);
    if (entry.reasoning) node.append(entry.reasoning);
    node.append(entry.body);
    if (entry.sources) node.append(entry.sources);
    node.append(entry.status, entry.actions);
    return entry;
  }

  renderEntry(entry, final) {
    const { data, node } = entry;
    node.dataset.status = data.status || "";
    node.dataset.role = data.role;
    entry.model.textContent = data.role === "assistant" ? data.model || "" : "";
    if (entry.editing) return;
    if (data.role === "user") {
      // User text is shown as typed: text, never markup.
      entry.body.textContent = data.content || "";
    } else {
      entry.body.replaceChildren(renderMarkdown(data.content || "", { final }));
      this.renderReasoning(entry, final);
      this.renderSources(entry);
    }
    this.renderStatus(entry);
  }

  renderReasoning(entry, final) {
    const text = entry.data.reasoning || "";
    entry.reasoning.hidden = !text;
    if (!text) return;
    const thinking = entry.data.status === "streaming" && !entry.data.content;
    entry.reasoningLabel.textContent = thinking ? t("thinking_now") : t("reasoning");
    if (!entry.reasoningToggled) {
      // Open while the model is still thinking, folded once the answer starts.
      entry.reasoning.open = thinking;
    }
    entry.reasoningBody.replaceChildren(renderMarkdown(text, { final }));
  }

  renderSources(entry) {
    const results = entry.data.web_search || [];
    entry.sources.hidden = results.length === 0;
    if (!results.length) return;
    const heading = el("p", "sources-title", t("sources"));
    const list = el("ol", "sources-list");
    for (const item of results) {
      const li = el("li");
      const link = String(item.link || "");
      const title = String(item.title || link || item.refer || "");
      if (/^https?:\/\//i.test(link)) {
        const a = el("a", "", title);
        a.href = link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(a);
      } else {
        li.append(document.createTextNode(title));
      }
      if (item.media) li.append(el("span", "source-media", ` · ${item.media}`));
      list.append(li);
    }
    entry.sources.replaceChildren(heading, list);
  }

  renderStatus(entry) {
    const { data } = entry;
    entry.status.replaceChildren();
    entry.status.className = `msg-status status-${data.status}`;
    if (data.status === "streaming") {
      entry.status.append(el("span", "spinner"), el("span", "", t("status_streaming")));
    } else if (data.status === "stopped") {
      entry.status.textContent = t("status_stopped");
    } else if (data.status === "interrupted" || data.status === "error") {
      const text = (data.error && data.error.message) ||
        (data.status === "error" ? t("status_error") : t("status_interrupted"));
      entry.status.append(el("span", "msg-error-text", text));
      entry.status.setAttribute("role", "alert");
      if (data.error && data.error.retryable) {
        entry.status.append(button("retry", t("retry"), "retry-button"));
      }
    }
  }

  /** Redraw each message's buttons (regenerate only on the last answer, none while streaming). */
  refreshActions() {
    const busy = this.streaming() !== null;
    const saved = [...this.entries.values()];
    let lastAssistant = null;
    for (let i = saved.length - 1; i >= 0; i -= 1) {
      if (saved[i].data.role === "assistant") {
        lastAssistant = saved[i];
        break;
      }
    }
    for (const entry of saved) {
      const { data } = entry;
      const parts = [];
      if (data.content) parts.push(button("copy", t("copy")));
      if (data.role === "user" && !busy) parts.push(button("edit", t("edit")));
      if (entry === lastAssistant && !busy && data.status !== "streaming") {
        parts.push(button("regenerate", t("regenerate")));
      }
      if (data.role === "assistant" && data.usage) {
        parts.push(
          el(
            "span",
            "msg-usage",
            t("tokens", {
              prompt: data.usage.prompt_tokens ?? "–",
              completion: data.usage.completion_tokens ?? "–",
            }),
          ),
        );
      }
      entry.actions.replaceChildren(...parts);
      const retry = entry.status.querySelector(".retry-button");
      if (retry) retry.hidden = busy || entry !== lastAssistant;
    }
    for (const entry of this.pendingByClient.values()) entry.actions.replaceChildren();
  }

  entryFor(node) {
    const item = node.closest(".msg");
    if (!item) return null;
    for (const entry of this.entries.values()) if (entry.node === item) return entry;
    return null;
  }

  async onClick(event) {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const action = target.dataset.action;
    if (action === "copy-code") {
      const code = target.closest(".code-block")?.querySelector("code");
      await this.flash(target, code ? code.textContent : "", "copy_code");
      return;
    }
    const entry = this.entryFor(target);
    if (!entry) return;
    if (action === "copy") await this.flash(target, entry.data.content || "", "copy");
    else if (action === "regenerate") this.handlers.onRegenerate(entry.data);
    else if (action === "retry") this.handlers.onRetry(entry.data);
    else if (action === "edit") this.startEdit(entry);
  }

  async flash(target, text, label) {
    const ok = await copyText(text);
    if (!ok) {
      this.handlers.onNotice(t("copy_failed"));
      return;
    }
    target.textContent = t("copied");
    target.classList.add("copied");
    setTimeout(() => {
      target.textContent = t(label);
      target.classList.remove("copied");
    }, 1500);
  }

  startEdit(entry) {
    if (entry.editing) return;
    entry.editing = true;
    const form = el("form", "edit-form");
    const area = el("textarea", "edit-input");
    area.value = entry.data.content || "";
    area.rows = Math.min(12, Math.max(2, area.value.split("\n").length));
    const hint = el("p", "help", t("edited_hint"));
    const save = el("button", "primary", t("save_send"));
    save.type = "submit";
    const cancel = el("button", "", t("cancel"));
    cancel.type = "button";
    const row = el("div", "edit-actions");
    row.append(save, cancel);
    form.append(area, hint, row);
    entry.body.replaceChildren(form);
    entry.actions.hidden = true;
    area.focus();
    const finish = () => {
      entry.editing = false;
      entry.actions.hidden = false;
      this.renderEntry(entry, true);
    };
    cancel.addEventListener("click", finish);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      if (this.handlers.onEdit(entry.data, text) !== false) finish();
    });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") finish();
      else if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
}
