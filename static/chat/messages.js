// The conversation's messages drawn from the Thread (thread.js holds what the server
// said; this module only draws it): built with DOM calls, Markdown through render.js,
// streamed text re-rendered at most once per animation frame, and the view kept at the
// bottom only while the reader is there.

import { renderAttachments } from "./attachments.js";
import { isWebLink, siteOf, sourceAnchor, toggleCitation } from "./citations.js";
import { timeElement } from "./dates.js";
import { button, el } from "./dom.js";
import { format, gettext, ngettext } from "./i18n.js";
import { installMathCopy } from "./maths.js";
import { url } from "./page.js";
import { copyText, renderMarkdown } from "./render.js";
import { renderToolCalls } from "./tools.js";

// The platform's limit on a video prompt (zhipu-api.md §5.1): "Make a video" trims to it.
const VIDEO_PROMPT_MAX = 512;

// Why the platform ended a reply that is complete but not whole: said under it.
const ENDINGS = {
  length: () => gettext("The answer reached its length limit (max tokens) and was cut here."),
  tool_calls: () => gettext("The model stopped to call a tool, which this chat does not run; the answer ends here."),
  model_context_window_exceeded: () => gettext("The conversation filled the model's context window, so the answer was cut here."),
};

const BOTTOM_SLACK_PX = 48;
// Older messages are asked for when the reader scrolls this close to the top.
const TOP_SLACK_PX = 600;

export class MessageView {
  /**
   * @param {Thread} thread the conversation's state (thread.js), read here
   * @param {HTMLElement} list the <ol> holding messages
   * @param {HTMLElement} scroller the scrolling container
   * @param {{onRegenerate, onRetry, onEdit, onNotice}} handlers
   */
  constructor(thread, list, scroller, handlers) {
    this.thread = thread;
    this.list = list;
    this.scroller = scroller;
    this.handlers = handlers;
    this.entries = new Map(); // Record -> its DOM parts
    this.dirty = new Set();
    this.frame = 0;
    this.stick = true;
    // The conversation's character ({name, avatar_url, greetings, greeting_index,
    // persona}) or null: its name and avatar label the assistant's messages.
    this.character = null;
    // An agent conversation (docs/chat.md, "Agents"): no Continue, agents cannot go on.
    this.agent = false;
    this.jump = document.getElementById("jump-bottom");
    scroller.addEventListener("scroll", () => {
      this.stick = this.atBottom();
      this.jump.hidden = this.stick;
      if (scroller.scrollTop < TOP_SLACK_PX && this.thread.hasMore) this.handlers.onNearTop?.();
    });
    this.jump.addEventListener("click", () => this.scrollToBottom(true));
    list.addEventListener("click", (event) => this.onClick(event));
    installMathCopy(list);
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

  /** Draw a Change from the Thread (null: nothing to draw). */
  draw(change) {
    if (!change) return;
    if (change.reset) {
      this.redraw();
      return;
    }
    if (change.older.length) {
      this.drawOlder(change.older);
      return;
    }
    for (const record of change.removed) this.drop(record);
    for (const record of change.records) {
      const entry = this.entryOf(record);
      if (change.streamed) this.schedule(entry);
      else this.renderEntry(entry, record.data.status !== "streaming");
    }
    if (change.summary) this.addSummary(change.summary);
    if (!change.streamed) {
      this.refreshActions();
      this.scrollToBottom();
    }
  }

  /** Say whether the conversation talks to a platform agent. */
  setAgent(agent) {
    this.agent = Boolean(agent);
  }

  /** Label messages with the conversation's character (null: none). */
  setCharacter(character) {
    this.character = character || null;
    for (const entry of this.entries.values()) this.fillRole(entry);
    this.refreshActions();
  }

  /** Write who speaks: the character (avatar and name, as text) or the defaults. */
  fillRole(entry) {
    const { data } = entry.record;
    const character = this.character;
    entry.role.replaceChildren();
    if (data.role === "user") {
      entry.role.textContent = (character && character.persona) || gettext("You");
      return;
    }
    if (!character) {
      entry.role.textContent = gettext("Assistant");
      return;
    }
    if (character.avatar_url) {
      const avatar = el("img", "msg-avatar");
      avatar.src = character.avatar_url;
      avatar.alt = "";
      avatar.width = 28;
      avatar.height = 28;
      entry.role.append(avatar);
    }
    entry.role.append(el("span", "msg-character", character.name));
  }

  /** The greeting that opens a character's story, while the user has not answered. */
  isOpeningGreeting(record) {
    if (!this.character || record.pending || record.data.role !== "assistant") return false;
    const saved = [...this.thread.saved.values()];
    return saved[0] === record && !saved.some((r) => r.data.role === "user") &&
      this.thread.pending.size === 0;
  }

  /** Draw the whole Thread again (a new history). */
  redraw() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.dirty.clear();
    this.entries.clear();
    this.list.replaceChildren();
    for (const record of [...this.thread.saved.values(), ...this.thread.pending.values()]) {
      this.renderEntry(this.entryOf(record), record.data.status !== "streaming");
    }
    for (const summary of this.thread.summaries) this.addSummary(summary);
    this.refreshActions();
    this.scrollToBottom(true);
  }

  /**
   * Put older messages above the ones shown, the reader's view staying where it was
   * (the scroll offset grows by the height added above it).
   */
  drawOlder(records) {
    const scroller = this.scroller;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const first = this.list.querySelector(".msg");
    const nodes = records.map((record) => {
      const entry = this.build(record);
      this.entries.set(record, entry);
      this.renderEntry(entry, true);
      return entry.node;
    });
    if (first) first.before(...nodes);
    else this.list.append(...nodes);
    this.placeSummaries();
    this.refreshActions();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }

  /** Put each summary's notice after the message it ends with, or first when that
   * message is not loaded (it is older than every message shown). */
  placeSummaries() {
    for (const node of this.list.querySelectorAll(".summary-notice")) {
      const summary = this.thread.summaries.find((s) => String(s.id) === node.dataset.summaryId);
      const anchor = summary && this.entries.get(this.thread.saved.get(summary.covers_until));
      if (anchor) anchor.node.after(node);
      else this.list.prepend(node);
    }
  }

  /** Show an unconfirmed send the Thread now holds (scrolling to it). */
  drawPending(record) {
    this.renderEntry(this.entryOf(record), true);
    this.refreshActions();
    this.scrollToBottom(true);
  }

  /** Remove a Record's message from the page. */
  drop(record) {
    const entry = record && this.entries.get(record);
    if (!entry) return;
    entry.node.remove();
    this.entries.delete(record);
    this.dirty.delete(entry);
  }

  /** Return a Record's DOM parts, building and placing them the first time. */
  entryOf(record) {
    let entry = this.entries.get(record);
    if (entry) return entry;
    entry = this.build(record);
    this.entries.set(record, entry);
    this.list.append(entry.node);
    if (!record.pending) {
      // Unconfirmed sends stay last until the server confirms them.
      for (const pending of this.thread.pending.values()) {
        const node = this.entries.get(pending)?.node;
        if (node) this.list.append(node);
      }
    }
    return entry;
  }

  addSummary(summary) {
    const node = el("li", "summary-notice");
    node.dataset.summaryId = summary.id;
    const count = summary.covered_messages;
    const text = el(
      "p",
      "summary-text",
      format(
        ngettext(
          "%(count)s older message is summarised: the model now reads this summary in its place.",
          "%(count)s older messages are summarised: the model now reads this summary in their place.",
          count,
        ),
        { count },
      ),
    );
    const details = el("details", "summary-details");
    const label = el("summary", "", gettext("Read the summary"));
    const body = el("div", "md summary-body");
    body.append(renderMarkdown(summary.content));
    details.append(label, body);
    node.append(text, details);
    const anchor = this.entries.get(this.thread.saved.get(summary.covers_until));
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
      for (const item of this.dirty) {
        this.renderEntry(item, item.record.data.status !== "streaming");
      }
      this.dirty.clear();
      this.scrollToBottom();
    });
  }

  build(record) {
    const { data } = record;
    const node = el("li", `msg msg-${data.role}`);
    const head = el("div", "msg-head");
    const role = el("span", "msg-role");
    const model = el("span", "msg-model");
    head.append(role, model);
    const entry = { record, node, head, role, model, editing: false };
    this.fillRole(entry);
    if (data.role === "assistant") {
      entry.reasoning = el("details", "reasoning");
      entry.reasoningLabel = el("summary", "", gettext("Reasoning"));
      entry.reasoningBody = el("div", "md reasoning-body");
      entry.reasoning.append(entry.reasoningLabel, entry.reasoningBody);
      entry.reasoning.hidden = true;
      // Only the reader's own click decides from then on (not our open/close).
      entry.reasoningLabel.addEventListener("click", () => {
        entry.reasoningToggled = true;
      });
      entry.tools = el("div", "tool-calls");
      entry.tools.hidden = true;
      entry.body = el("div", "md msg-body");
      entry.sources = el("div", "sources");
      entry.sources.hidden = true;
    } else {
      entry.body = el("div", "msg-text msg-body");
      entry.media = el("div", "msg-media");
    }
    entry.seen = el("p", "msg-seen help");
    entry.seen.hidden = true;
    entry.status = el("div", "msg-status");
    entry.status.setAttribute("role", "status");
    entry.actions = el("div", "msg-actions");
    node.append(head);
    if (entry.reasoning) node.append(entry.reasoning);
    if (entry.media) node.append(entry.media);
    if (entry.tools) node.append(entry.tools);
    node.append(entry.body);
    if (entry.sources) node.append(entry.sources);
    node.append(entry.seen);
    node.append(entry.status, entry.actions);
    return entry;
  }

  renderEntry(entry, final) {
    const { node, record } = entry;
    const { data } = record;
    node.classList.toggle("msg-pending", record.pending);
    if (data.id) node.dataset.id = data.id;
    node.dataset.status = data.status || "";
    node.dataset.role = data.role;
    entry.model.textContent = data.role === "assistant" ? data.model || "" : "";
    if (!entry.time && data.created_at) {
      // Known once the server has the message (not while it is still on its way).
      entry.time = timeElement(data.created_at, "msg-time");
      entry.head.append(entry.time);
    }
    if (entry.editing) return;
    if (data.role === "user") {
      // User text is shown as typed: text, never markup.
      entry.body.textContent = data.content || "";
      const shown = (data.attachments || []).map((a) => a.id).join(",");
      if (entry.mediaShown !== shown) {
        entry.mediaShown = shown;
        entry.media.replaceChildren(renderAttachments(data.attachments));
      }
    } else {
      entry.body.replaceChildren(
        renderMarkdown(data.content || "", { final, sources: data.web_search, messageId: data.id }),
      );
      this.renderReasoning(entry, final);
      this.renderTools(entry);
      this.renderSources(entry);
      const seen = (data.seen_attachments || []).length;
      entry.seen.hidden = !seen || data.status === "streaming";
      entry.seen.textContent = format(
        ngettext(
          "The model saw %(count)s attachment with this reply.",
          "The model saw %(count)s attachments with this reply.",
          seen,
        ),
        { count: seen },
      );
    }
    this.renderStatus(entry);
  }

  renderReasoning(entry, final) {
    const { data } = entry.record;
    const text = data.reasoning || "";
    entry.reasoning.hidden = !text;
    if (!text) return;
    const thinking = data.status === "streaming" && !data.content;
    entry.reasoningLabel.textContent = thinking ? gettext("Thinking…") : gettext("Reasoning");
    if (!entry.reasoningToggled) {
      // Open while the model is still thinking, folded once the answer starts.
      entry.reasoning.open = thinking;
    }
    entry.reasoningBody.replaceChildren(renderMarkdown(text, { final }));
  }

  renderTools(entry) {
    const calls = entry.record.data.tool_calls || [];
    entry.tools.hidden = calls.length === 0;
    // Rebuilt only when the calls change, so a block the reader opened stays open.
    const shown = JSON.stringify(calls);
    if (entry.toolsShown === shown) return;
    entry.toolsShown = shown;
    entry.tools.replaceChildren(renderToolCalls(calls));
  }

  renderSources(entry) {
    const results = entry.record.data.web_search || [];
    entry.sources.hidden = results.length === 0;
    if (!results.length) return;
    const heading = el("p", "sources-title", gettext("Sources"));
    const list = el("ol", "sources-list");
    results.forEach((item, index) => {
      // Numbered like the markers that cite them (citations.js links to these ids).
      const li = el("li", "source");
      li.id = sourceAnchor(entry.record.data.id, index + 1);
      const link = String(item.link || "");
      const title = String(item.title || link || item.refer || "");
      if (isWebLink(link)) {
        const a = el("a", "", title);
        a.href = link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(a);
      } else {
        li.append(document.createTextNode(title));
      }
      const meta = [siteOf(item), item.publish_date ? String(item.publish_date) : ""]
        .filter(Boolean)
        .join(" · ");
      if (meta) li.append(el("span", "source-media", ` · ${meta}`));
      list.append(li);
    });
    entry.sources.replaceChildren(heading, list);
  }

  renderStatus(entry) {
    const { data } = entry.record;
    entry.status.replaceChildren();
    entry.status.className = `msg-status status-${data.status}`;
    if (data.status === "streaming") {
      entry.status.append(el("span", "spinner"), el("span", "", gettext("Writing…")));
    } else if (data.status === "complete" && ENDINGS[data.finish_reason]) {
      entry.status.classList.add("status-cut");
      entry.status.append(el("span", "msg-ending", ENDINGS[data.finish_reason]()));
      if (data.finish_reason === "length" && !this.agent) {
        entry.status.append(button("continue", gettext("Continue"), "continue-button"));
      }
    } else if (data.status === "stopped") {
      entry.status.textContent = gettext("Stopped: the reply was cut short at your request.");
    } else if (data.status === "interrupted" || data.status === "error") {
      const error = data.error || {};
      const generic = data.status === "error"
        ? gettext("The reply failed.")
        : gettext("Interrupted: the text received so far is kept.");
      entry.status.append(el("span", "msg-error-text", error.message || generic));
      entry.status.setAttribute("role", "alert");
      // The server decides whether trying again can help (the error's kind).
      if (error.retryable) {
        entry.status.append(button("retry", gettext("Retry"), "retry-button"));
      }
      if (error.detail) {
        // The platform's own words: untrusted text, shown as text under a fold.
        const fold = el("details", "msg-error-detail");
        fold.append(
          el("summary", "", gettext("The platform's message")),
          el("p", "msg-error-detail-text", String(error.detail)),
        );
        entry.status.append(fold);
      }
    }
  }

  /** Redraw each message's buttons (regenerate only on the last answer, none while streaming). */
  refreshActions() {
    const busy = this.thread.streaming() !== null;
    const lastAssistant = this.thread.lastAssistant();
    for (const [record, entry] of this.entries) {
      if (record.pending) {
        entry.actions.replaceChildren();
        continue;
      }
      const { data } = record;
      const parts = [];
      if (data.content) parts.push(button("copy", gettext("Copy"), "msg-button"));
      if (data.role === "user" && !busy) {
        parts.push(button("edit", gettext("Edit"), "msg-button"));
      }
      const greeting = this.isOpeningGreeting(record);
      if (record === lastAssistant && !busy && data.status !== "streaming" && !greeting) {
        parts.push(button("regenerate", gettext("Regenerate"), "msg-button"));
      }
      if (greeting && !busy && this.character.greetings > 1) {
        // The switcher for the character's alternate greetings.
        const count = this.character.greetings;
        const index = this.character.greeting_index || 0;
        const previous = button("greeting", "‹", "msg-button greeting-previous");
        previous.dataset.index = String((index + count - 1) % count);
        previous.setAttribute("aria-label", gettext("Previous greeting"));
        const next = button("greeting", "›", "msg-button greeting-next");
        next.dataset.index = String((index + 1) % count);
        next.setAttribute("aria-label", gettext("Next greeting"));
        const position = format(gettext("Greeting %(index)s of %(count)s"), {
          index: index + 1,
          count,
        });
        parts.push(previous, el("span", "greeting-position", position), next);
      }
      const versions = data.role === "assistant" ? data.versions || [] : [];
      if (record === lastAssistant && versions.length > 1 && !busy) {
        parts.push(...this.versionSwitcher(data, versions));
      }
      if (data.role === "assistant" && data.content && data.status !== "streaming") {
        parts.push(this.videoLink(data.content));
      }
      if (data.role === "assistant" && data.usage) {
        let text = format(gettext("%(prompt)s prompt + %(completion)s completion tokens"), {
          prompt: data.usage.prompt_tokens ?? "–",
          completion: data.usage.completion_tokens ?? "–",
        });
        if (data.usage.reasoning_tokens) {
          text += format(gettext(" (%(reasoning)s of them reasoning)"), {
            reasoning: data.usage.reasoning_tokens,
          });
        }
        parts.push(el("span", "msg-usage", text));
      }
      entry.actions.replaceChildren(...parts);
      const retry = entry.status.querySelector(".retry-button");
      if (retry) retry.hidden = busy || record !== lastAssistant;
      const more = entry.status.querySelector(".continue-button");
      if (more) more.hidden = busy || record !== lastAssistant;
    }
    this.markUnseen(lastAssistant);
  }

  /** The ‹ 2/3 › switcher between the versions of the latest answer. */
  versionSwitcher(data, versions) {
    const index = versions.indexOf(data.id);
    const count = versions.length;
    const previous = button("version", "‹", "msg-button version-previous");
    previous.dataset.messageId = String(versions[(index + count - 1) % count]);
    previous.setAttribute("aria-label", gettext("Previous version"));
    const next = button("version", "›", "msg-button version-next");
    next.dataset.messageId = String(versions[(index + 1) % count]);
    next.setAttribute("aria-label", gettext("Next version"));
    const position = el("span", "version-position", `${index + 1}/${count}`);
    position.setAttribute(
      "aria-label",
      format(gettext("Version %(index)s of %(count)s"), { index: index + 1, count }),
    );
    return [previous, position, next];
  }

  /** A link to the video form with the answer as its prompt (trimmed to the limit). */
  videoLink(text) {
    const prompt = text.replace(/\s+/g, " ").trim().slice(0, VIDEO_PROMPT_MAX);
    const link = el("a", "msg-button video-link", gettext("Make a video"));
    link.href = `${url("video_form")}?${new URLSearchParams({ prompt })}`;
    // Every link in the thread carries the same rel, ours too: one rule the
    // rendering tests can hold without exceptions.
    link.rel = "noopener noreferrer";
    return link;
  }

  /** Dim the attachments the latest reply's model was not sent (over its limits or
   * the context budget: docs/chat.md). */
  markUnseen(lastAssistant) {
    const reply = lastAssistant && lastAssistant.data;
    const known = reply && reply.status !== "streaming" && Array.isArray(reply.seen_attachments);
    const seen = new Set(known ? reply.seen_attachments.map(String) : []);
    for (const node of this.list.querySelectorAll(".msg-attachment[data-attachment-id]")) {
      const unseen = known && !seen.has(node.dataset.attachmentId);
      node.classList.toggle("unseen", unseen);
      node.title = unseen
        ? gettext("The model was not sent this one with its latest reply (over the model's limits or the context).")
        : node.getAttribute("aria-label") || node.querySelector("img")?.alt || "";
    }
  }

  /** Return the saved message's entry that holds `node`, or null. */
  entryFor(node) {
    const item = node.closest(".msg");
    for (const [record, entry] of this.entries) {
      if (entry.node === item && !record.pending) return entry;
    }
    return null;
  }

  async onClick(event) {
    const cite = event.target.closest(".cite-link");
    if (cite) {
      // A tap shows the preview first (there is no hover); the next tap follows it.
      const sup = cite.closest(".cite");
      if (event.pointerType === "touch" && !sup.classList.contains("open")) {
        event.preventDefault();
        toggleCitation(sup);
      }
      return;
    }
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const action = target.dataset.action;
    if (action === "copy-code") {
      const code = target.closest(".code-block")?.querySelector("code");
      await this.flash(target, code ? code.textContent : "");
      return;
    }
    const entry = this.entryFor(target);
    if (!entry) return;
    const { data } = entry.record;
    if (action === "copy") await this.flash(target, data.content || "");
    else if (action === "regenerate") this.handlers.onRegenerate(data);
    else if (action === "retry") this.handlers.onRetry(data);
    else if (action === "edit") this.startEdit(entry);
    else if (action === "greeting") this.handlers.onGreeting(Number(target.dataset.index));
    else if (action === "continue") this.handlers.onContinue(data);
    else if (action === "version") this.handlers.onSelectVersion(Number(target.dataset.messageId));
  }

  /** Copy `text`, say so on the button for a moment, then restore its label. */
  async flash(target, text) {
    if (target.classList.contains("copied")) return;
    const ok = await copyText(text);
    if (!ok) {
      this.handlers.onNotice(gettext("Could not copy to the clipboard."));
      return;
    }
    const label = target.textContent;
    target.textContent = gettext("Copied");
    target.classList.add("copied");
    setTimeout(() => {
      target.textContent = label;
      target.classList.remove("copied");
    }, 1500);
  }

  startEdit(entry) {
    if (entry.editing) return;
    entry.editing = true;
    const form = el("form", "edit-form");
    const area = el("textarea", "edit-input");
    area.value = entry.record.data.content || "";
    area.rows = Math.min(12, Math.max(2, area.value.split("\n").length));
    const hint = el(
      "p",
      "help",
      gettext("Editing hides this message and everything after it, then sends the new text."),
    );
    const save = el("button", "primary", gettext("Save and send"));
    save.type = "submit";
    const cancel = el("button", "", gettext("Cancel"));
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
      if (this.handlers.onEdit(entry.record.data, text) !== false) finish();
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
