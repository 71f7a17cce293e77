// The message box: Enter sends, Shift+Enter breaks the line, and an IME composition
// (pinyin and the like) never sends. What is typed is saved as a draft per
// conversation in localStorage, so a reload or a failure loses nothing.

import { format, gettext } from "./i18n.js";

const DRAFT_PREFIX = "glmweb:draft:";
const busyText = () =>
  gettext("A reply is still being written. Stop it first, or wait for it to finish.");

function storageGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // Private mode or a full quota: the draft only lives in the page then.
  }
}

export class Composer {
  /**
   * @param {{onSend: (text) => void, onStop: () => void, maxChars: number,
   *   uploading?: () => boolean}} options
   */
  constructor({ onSend, onStop, maxChars, uploading = () => false }) {
    this.uploading = uploading;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.sendButton = document.getElementById("send-button");
    this.stopButton = document.getElementById("stop-button");
    this.notice = document.getElementById("composer-notice");
    this.count = document.getElementById("composer-count");
    this.onSend = onSend;
    this.maxChars = maxChars || 0;
    this.key = "new";
    // Text typed before this module ran (a fast typist on a slow load) is newer than
    // any saved draft: the first use() keeps it instead of overwriting it.
    this.typedEarly = this.input ? this.input.value : "";
    this.busy = false;
    this.composing = false;
    this.input.addEventListener("compositionstart", () => {
      this.composing = true;
    });
    this.input.addEventListener("compositionend", () => {
      this.composing = false;
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
      // keyCode 229: the key went to an IME (Safari ends composition before keydown).
      if (event.isComposing || this.composing || event.keyCode === 229) return;
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("input", () => {
      this.saveDraft();
      this.resize();
      this.updateCount();
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.stopButton.addEventListener("click", () => onStop());
    // The composer's height, for what floats above it (toasts, "jump to latest"):
    // they sit over the conversation, never over the message box.
    const root = document.documentElement;
    new ResizeObserver(() => {
      root.style.setProperty("--composer-h", `${this.form.offsetHeight}px`);
    }).observe(this.form);
  }

  isEmpty() {
    return this.input.value === "";
  }

  draftKey(key = this.key) {
    return DRAFT_PREFIX + key;
  }

  /** Switch to another conversation's draft ("new" for the empty chat). */
  use(key) {
    this.key = key || "new";
    const early = this.typedEarly;
    this.typedEarly = "";
    this.input.value = early || storageGet(this.draftKey()) || "";
    if (early) this.saveDraft();
    this.hideNotice();
    this.resize();
    this.updateCount();
  }

  /** Move the current text's draft to another key (the new chat got its id). */
  rekey(key) {
    const value = storageGet(this.draftKey());
    storageSet(this.draftKey(), "");
    this.key = key;
    storageSet(this.draftKey(), value);
  }

  saveDraft() {
    storageSet(this.draftKey(), this.input.value);
  }

  /** Empty the box after a send (the pending send keeps the text until acknowledged). */
  clear() {
    this.input.value = "";
    this.saveDraft();
    this.resize();
    this.updateCount();
  }

  /** Put text back (a refused send), in front of anything typed since. */
  restore(text) {
    const current = this.input.value.trim();
    this.input.value = current && current !== text ? `${text}\n${current}` : text;
    this.saveDraft();
    this.resize();
    this.updateCount();
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    if (this.busy) {
      this.showNotice(busyText());
      return;
    }
    if (this.uploading()) {
      this.showNotice(gettext("Wait for the attachments to finish uploading, then send."));
      return;
    }
    if (this.maxChars && text.length > this.maxChars) {
      const tooLong = gettext("The message is too long: %(count)s of at most %(max)s characters.");
      this.showNotice(format(tooLong, { count: text.length, max: this.maxChars }));
      return;
    }
    this.hideNotice();
    this.onSend(text);
  }

  setBusy(busy) {
    if (this.busy && !busy && this.notice.textContent === busyText()) this.hideNotice();
    this.busy = busy;
    this.sendButton.hidden = busy;
    this.sendButton.disabled = busy;
    this.stopButton.hidden = !busy;
  }

  setEnabled(enabled) {
    this.input.disabled = !enabled;
    this.sendButton.disabled = !enabled || this.busy;
  }

  focus() {
    this.input.focus();
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  hideNotice() {
    this.notice.hidden = true;
    this.notice.textContent = "";
  }

  resize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }

  updateCount() {
    const length = this.input.value.length;
    const show = this.maxChars && length > this.maxChars * 0.8;
    this.count.hidden = !show;
    if (show) {
      this.count.textContent = format(gettext("%(count)s / %(max)s characters"), {
        count: length,
        max: this.maxChars,
      });
      this.count.classList.toggle("over", length > this.maxChars);
    }
  }
}
