// The chat page: wires the sidebar, settings, message list, composer and the
// conversation's websocket together. Protocol: docs/websocket.md. Nothing the user
// typed is lost: the draft lives in localStorage until the server acknowledges the send
// (the unacknowledged frames are kept there too and resent after a reload; the server
// ignores a client_id it has already seen).

import { api } from "./api.js";
import { Attachments } from "./attachments.js";
import { Composer } from "./composer.js";
import { format, gettext } from "./i18n.js";
import { MessageView } from "./messages.js";
import { data, url } from "./page.js";
import { Settings } from "./settings.js";
import { installShortcuts } from "./shortcuts.js";
import { Sidebar } from "./sidebar.js";
import { ChatSocket } from "./socket.js";
import { Thread } from "./thread.js";
import { showToast } from "./toast.js";

const PENDING_PREFIX = "glmweb:pending:";
const deniedText = () =>
  gettext("This conversation is not available. It may have been deleted, or you were signed out.");
const PATCH_DELAY_MS = 300;

function uuid() {
  if (window.crypto && crypto.randomUUID) {
    try {
      return crypto.randomUUID();
    } catch {
      // Not a secure context (plain http on a LAN address): build one below.
    }
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function loadPending(id) {
  try {
    const frames = JSON.parse(localStorage.getItem(PENDING_PREFIX + id) || "[]");
    return Array.isArray(frames) ? frames.filter((f) => f && f.client_id && f.type) : [];
  } catch {
    return [];
  }
}

function savePending(id, frames) {
  try {
    if (frames.length) localStorage.setItem(PENDING_PREFIX + id, JSON.stringify(frames));
    else localStorage.removeItem(PENDING_PREFIX + id);
  } catch {
    // No storage: the frames still live in the socket until acknowledged.
  }
}

class ChatPage {
  constructor(data) {
    this.data = data;
    this.app = document.getElementById("chat-app");
    this.title = document.getElementById("chat-title");
    this.empty = document.getElementById("empty-state");
    this.conn = document.getElementById("conn-status");
    this.exportMenu = document.getElementById("export-menu");
    this.conversationId = null;
    this.conversation = null;
    this.socket = null;
    this.creating = false;
    this.patchFields = {};
    this.patchTimer = null;

    this.thread = new Thread();
    this.view = new MessageView(
      this.thread,
      document.getElementById("message-list"),
      document.getElementById("messages"),
      {
        onRegenerate: () => this.regenerate(),
        onRetry: () => this.regenerate(),
        onEdit: (message, text) => this.edit(message, text),
        onNotice: (text) => showToast(text, { kind: "error" }),
        onGreeting: (index) => this.chooseGreeting(index),
        onContinue: (message) => this.continueReply(message),
        onSelectVersion: (messageId) => this.selectVersion(messageId),
        onNearTop: () => this.loadOlder(),
      },
    );
    this.loadingOlder = false;
    this.composer = new Composer({
      onSend: (text) => this.send(text),
      onStop: () => this.stop(),
      maxChars: (data.limits || {}).max_message_chars,
      uploading: () => this.attachments.uploading(),
    });
    this.attachments = new Attachments({
      models: data.models,
      limits: data.limits,
      onNotice: (text) => this.composer.showNotice(text),
    });
    // client_id -> the attachments a send of this tab carried (put back if refused);
    // assistant id -> its user message, while a reply with attachments runs.
    this.sentAttachments = new Map();
    this.awaiting = new Map();
    this.settings = new Settings(data, {
      onChange: (fields) => this.settingsChanged(fields),
      onInvalid: (names) => this.settingsInvalid(names),
    });
    this.sidebar = new Sidebar({
      onOpen: (id) => this.open(id, { push: true }),
      onDeleted: (id) => {
        savePending(id, []);
        if (id === this.conversationId) this.showNew({ push: true });
      },
      onRenamed: (conversation) => {
        if (conversation.id === this.conversationId) this.showTitle(conversation);
      },
      onError: (error) => showToast(error.message, { kind: "error" }),
      currentId: () => this.conversationId,
    });

    document.getElementById("new-chat").addEventListener("click", (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      this.sidebar.setOpen(false);
      this.showNew({ push: true });
    });
    // Each history entry carries its conversation's id (null: a new chat).
    window.addEventListener("popstate", (event) => this.route(event.state?.id ?? null));
    this.announcer = document.getElementById("announcer");
    installShortcuts({
      stop: () => {
        if (!this.thread.streaming()) return false;
        this.stop();
        return true;
      },
      newChat: () => {
        this.sidebar.setOpen(false);
        this.showNew({ push: true });
      },
      search: () => this.sidebar.focusSearch(),
      focusComposer: () => this.composer.focus(),
      composerEmpty: () => this.composer.isEmpty(),
      editLast: () => {
        const edits = document.querySelectorAll("#message-list .msg-user [data-action='edit']");
        if (!edits.length) return false;
        edits[edits.length - 1].click();
        return true;
      },
    });
  }

  /**
   * Tell a screen reader that a reply ended (once, politely; the streamed tokens are
   * not announced: the message list is not a live region).
   */
  announceEnd(message) {
    const texts = {
      complete: gettext("The reply is complete."),
      stopped: gettext("The reply was stopped."),
    };
    const text = texts[message.status] || gettext("The reply did not finish.");
    this.announcer.textContent = "";
    // A new text node each time, so the same words are announced again.
    setTimeout(() => {
      this.announcer.textContent = text;
    }, 50);
  }

  start() {
    history.replaceState({ id: this.data.conversation_id }, "");
    this.route(this.data.conversation_id);
    this.sidebar.refresh();
  }

  route(id) {
    if (id) this.open(id, { push: false });
    else this.showNew({ push: false });
  }

  /** Reset the thread (a new chat, another conversation) and the view with it. */
  clearThread() {
    this.thread.reset([]);
    this.view.setCharacter(null);
    this.view.setAgent(false);
    this.view.redraw();
  }

  /** Fetch the page of messages before the oldest shown (the reader scrolled up). */
  async loadOlder() {
    const id = this.conversationId;
    const before = this.thread.oldestId();
    if (!id || before === null || !this.thread.hasMore || this.loadingOlder) return;
    const epoch = this.thread.epoch;
    this.loadingOlder = true;
    let data;
    try {
      data = await api.olderMessages(id, before);
    } catch (error) {
      showToast(error.message, { kind: "error" });
      return;
    } finally {
      this.loadingOlder = false;
    }
    // Another conversation, or a new history (reconnect), came meanwhile.
    if (id !== this.conversationId || epoch !== this.thread.epoch) return;
    if (this.thread.oldestId() !== before) return;
    this.view.draw(this.thread.prepend(data.messages || [], data.has_more));
  }

  /** Open the character's story with another of its greetings (before the first reply). */
  async chooseGreeting(index) {
    const id = this.conversationId;
    if (!id || this.thread.streaming()) return;
    try {
      const data = await api.chooseGreeting(id, index);
      if (id !== this.conversationId) return;
      this.conversation = { ...this.conversation, ...data.conversation };
      this.view.setCharacter(this.conversation.character);
      this.view.setAgent(this.conversation.assistant_id);
      this.view.draw(this.thread.apply({ type: "reply.end", message: data.message }));
    } catch (error) {
      showToast(error.message, { kind: "error" });
    }
  }

  closeSocket() {
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  showNew({ push }) {
    this.closeSocket();
    this.flushPatch();
    this.conversationId = null;
    this.conversation = null;
    const page = url("page");
    if (push && location.pathname !== page) history.pushState({ id: null }, "", page);
    this.settings.load(null);
    this.syncModel();
    this.clearThread();
    this.composer.use("new");
    this.composer.setBusy(false);
    this.composer.setEnabled(true);
    this.showTitle(null);
    this.setConn("idle");
    this.exportMenu.hidden = true;
    this.app.dataset.state = "new";
    this.updateEmpty();
    this.sidebar.markCurrent();
    this.composer.focus();
  }

  open(id, { push, conversation = null }) {
    if (id === this.conversationId && this.socket) return;
    this.closeSocket();
    this.flushPatch();
    this.conversationId = id;
    this.conversation = conversation;
    if (push) history.pushState({ id }, "", url("conversation_page", id));
    this.clearThread();
    if (conversation) {
      this.settings.load(conversation);
      this.syncModel();
      this.showTitle(conversation);
    } else {
      this.title.textContent = gettext("Loading…");
    }
    this.composer.use(id);
    this.composer.setBusy(false);
    this.composer.setEnabled(true);
    document.getElementById("export-md").href = api.exportUrl(id, "md");
    document.getElementById("export-json").href = api.exportUrl(id, "json");
    this.exportMenu.hidden = false;
    this.app.dataset.state = "loading";
    const pending = loadPending(id);
    this.socket = new ChatSocket(
      id,
      {
        onFrame: (frame) => this.onFrame(frame),
        onStatus: (state) => this.setConn(state),
        onPendingChange: (frames) => savePending(id, frames),
      },
      pending,
    );
    this.showPending();
    this.updateEmpty();
    this.socket.open();
    this.sidebar.markCurrent();
  }

  /** Show sends the server has not confirmed (after a reload or a reconnect). */
  showPending() {
    for (const frame of this.socket.pending.values()) {
      if (frame.type === "message.send" && !this.thread.has(frame.client_id)) {
        this.view.drop(this.thread.removePending(frame.client_id));
        this.view.drawPending(this.thread.addPending(frame.client_id, frame.text));
      }
    }
  }

  showTitle(conversation) {
    const title = conversation
      ? conversation.title || gettext("Untitled conversation")
      : gettext("New chat");
    this.title.textContent = title;
    this.title.title = title;
    document.title = `${title} · GLM Web`;
  }

  setConn(state) {
    this.conn.dataset.state = state;
    const labels = {
      connecting: gettext("Connecting…"),
      online: gettext("Connected"),
      reconnecting: gettext("Reconnecting…"),
      offline: gettext("Offline: reconnecting when the network is back"),
      denied: deniedText(),
      idle: "",
    };
    this.conn.textContent = labels[state] ?? "";
    this.conn.title = labels[state] ?? "";
    if (state === "denied") {
      this.app.dataset.state = "denied";
      this.composer.setEnabled(false);
      this.composer.showNotice(deniedText());
    }
  }

  updateEmpty() {
    this.empty.hidden = !this.thread.isEmpty() || this.app.dataset.state === "loading";
  }

  updateBusy() {
    const streaming = this.thread.streaming();
    this.composer.setBusy(streaming !== null);
    this.view.refreshActions();
    this.updateEmpty();
  }

  onFrame(frame) {
    // The character labels the messages: known before the history is drawn.
    if (frame.type === "conversation.history") {
      this.view.setAgent(frame.conversation.assistant_id);
      this.view.setCharacter(frame.conversation.character);
    }
    // The thread takes the frames about messages; the page reacts to the rest.
    this.view.draw(this.thread.apply(frame));
    switch (frame.type) {
      case "conversation.history":
        this.conversation = frame.conversation;
        this.settings.load(frame.conversation);
        this.syncModel();
        this.showTitle(frame.conversation);
        this.showPending();
        this.app.dataset.state = "ready";
        this.composer.setEnabled(true);
        this.updateBusy();
        break;
      case "message.created":
        if (frame.user && this.sentAttachments.has(frame.client_id)) {
          this.sentAttachments.delete(frame.client_id);
          if ((frame.user.attachments || []).length) this.awaiting.set(frame.assistant.id, frame.user);
        }
        this.updateBusy();
        break;
      case "reply.snapshot":
        this.updateBusy();
        break;
      case "reply.end":
        this.announceEnd(frame.message);
        this.replyEnded(frame.message);
        this.updateBusy();
        this.sidebar.refresh();
        break;
      case "conversation.updated":
        this.conversationUpdated(frame.conversation);
        break;
      case "error":
        this.refused(frame);
        break;
      default:
        break;
    }
  }

  conversationUpdated(conversation) {
    this.conversation = { ...this.conversation, ...conversation };
    this.showTitle(this.conversation);
    this.sidebar.update(this.conversation);
    const panel = document.getElementById("settings-panel");
    const editing = panel.contains(document.activeElement) ||
      document.activeElement === document.getElementById("model-picker");
    if (!editing && !Object.keys(this.patchFields).length) {
      this.settings.load(this.conversation);
      this.syncModel();
    }
  }

  /** Offer attaching only where the chosen model can take it. */
  syncModel() {
    this.attachments.setModel(document.getElementById("model-picker").value);
  }

  /**
   * A reply to this tab's images failed for good (the platform refused an image, say):
   * the text and the images go back to the box to send again; the platform's reason
   * is under the reply's details fold.
   */
  replyEnded(message) {
    const user = this.awaiting.get(message.id);
    this.awaiting.delete(message.id);
    if (!user || message.status !== "error" || !message.error || message.error.retryable) return;
    this.composer.restore(user.content || "");
    this.attachments.copyBack(user.attachments);
    this.composer.showNotice(
      format(gettext("The reply failed: %(message)s Your text and attachments are back in the box."), {
        message: message.error.message,
      }),
    );
  }

  refused(frame) {
    const sent = frame.sent;
    if (sent && sent.type === "message.send") {
      this.view.drop(this.thread.removePending(sent.client_id));
      this.composer.restore(sent.text);
      this.attachments.restore(this.sentAttachments.get(sent.client_id));
      this.sentAttachments.delete(sent.client_id);
      this.composer.showNotice(
        format(gettext("The message was not sent: %(message)s Your text is back in the box."), {
          message: frame.message,
        }),
      );
    } else {
      this.composer.showNotice(frame.message);
    }
    this.updateBusy();
  }

  async send(text) {
    if (this.creating) return;
    let options;
    try {
      options = this.settings.values();
    } catch (error) {
      this.composer.showNotice(error.message);
      this.settings.setPanelOpen(true);
      return;
    }
    const frame = { type: "message.send", client_id: uuid(), text };
    // Until the conversation's own settings arrive (a message sent straight after the
    // page loads), the panel holds the defaults: sending them would switch the
    // conversation to the default model. Send none; the server keeps its own.
    if (!this.conversationId || this.conversation) frame.options = options;
    const attached = this.attachments.take();
    if (attached.length) {
      frame.attachments = attached.map((a) => a.id);
      this.sentAttachments.set(frame.client_id, attached);
    }
    if (!this.conversationId) {
      this.creating = true;
      this.composer.setEnabled(false);
      let data;
      try {
        data = await api.createConversation(options);
      } catch (error) {
        this.composer.showNotice(error.message);
        this.attachments.restore(attached);
        return;
      } finally {
        this.creating = false;
        this.composer.setEnabled(true);
      }
      const id = data.conversation.id;
      // Saved under the new conversation before the draft goes: nothing is lost even
      // if the page dies right here (the next visit resends it).
      savePending(id, [frame]);
      this.composer.clear();
      this.open(id, { push: true, conversation: data.conversation });
      this.sidebar.refresh();
      return;
    }
    this.composer.clear();
    this.view.drawPending(this.thread.addPending(frame.client_id, text, attached));
    this.updateEmpty();
    this.socket.sendTracked(frame);
  }

  stop() {
    const streaming = this.thread.streaming();
    if (!streaming || !this.socket) return;
    if (!this.socket.sendNow({ type: "reply.stop", message_id: streaming.id })) {
      this.composer.showNotice(gettext("Reconnecting…"));
    }
  }

  regenerate() {
    if (!this.socket || this.thread.streaming()) return;
    this.composer.hideNotice();
    this.socket.sendTracked({ type: "reply.regenerate", client_id: uuid() });
  }

  /** Ask for the rest of an answer cut by its length limit (appended to it). Sent once,
   * not repeated after a reconnect: a repeat would append a second continuation. */
  continueReply(message) {
    if (!this.socket || this.thread.streaming()) return;
    this.composer.hideNotice();
    const frame = { type: "reply.continue", client_id: uuid(), message_id: message.id };
    if (!this.socket.sendNow(frame)) this.composer.showNotice(gettext("Reconnecting…"));
  }

  /** Show another version of the latest answer (every tab follows: reply.selected). */
  selectVersion(messageId) {
    if (!this.socket || this.thread.streaming()) return;
    if (!this.socket.sendNow({ type: "reply.select", message_id: messageId })) {
      this.composer.showNotice(gettext("Reconnecting…"));
    }
  }

  edit(message, text) {
    if (!this.socket || this.thread.streaming()) return false;
    const max = (this.data.limits || {}).max_message_chars;
    if (max && text.length > max) {
      const tooLong = gettext("The message is too long: %(count)s of at most %(max)s characters.");
      showToast(format(tooLong, { count: text.length, max }), { kind: "error" });
      return false;
    }
    this.socket.sendTracked({
      type: "message.edit",
      message_id: message.id,
      client_id: uuid(),
      text,
    });
    return true;
  }

  settingsChanged(fields) {
    if (!this.conversationId) {
      this.settings.showStatus(gettext("Saved with your next message"));
      return;
    }
    Object.assign(this.patchFields, fields);
    clearTimeout(this.patchTimer);
    this.patchTimer = setTimeout(() => this.flushPatch(), PATCH_DELAY_MS);
  }

  /**
   * The newest value of these settings is refused in the page: an older value still
   * waiting to be sent (the slider a moment ago, the "1" of "1.5") is not what the
   * user wants any more, so it is dropped, not saved.
   */
  settingsInvalid(names) {
    for (const name of names) delete this.patchFields[name];
    if (!Object.keys(this.patchFields).length) clearTimeout(this.patchTimer);
  }

  async flushPatch() {
    clearTimeout(this.patchTimer);
    const fields = this.patchFields;
    const id = this.conversationId;
    this.patchFields = {};
    if (!id || !Object.keys(fields).length) return;
    try {
      const data = await api.updateConversation(id, fields);
      if (id === this.conversationId) {
        this.conversation = data.conversation;
        this.settings.showSaved();
      }
    } catch (error) {
      this.settings.showStatus(error.message, true);
    }
  }
}

new ChatPage(data).start();
