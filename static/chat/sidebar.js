// The list of conversations: search (titles and message text, debounced, by the API),
// active/archived tabs, and per item: rename in place, pin, archive, delete with undo.
// On phones it is a drawer over the page.

import { api } from "./api.js";
import { el } from "./dom.js";
import { format, gettext } from "./i18n.js";
import { icon } from "./icons.js";
import { url } from "./page.js";
import { showToast } from "./toast.js";

const SEARCH_DELAY_MS = 250;

function titleOf(conversation) {
  return conversation.title || gettext("Untitled conversation");
}

export class Sidebar {
  /** @param {{onOpen: (id) => void, onDeleted: (id) => void, onError: (error) => void, currentId: () => string|null}} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = document.getElementById("sidebar");
    this.list = document.getElementById("conv-list");
    this.search = document.getElementById("conv-search");
    this.empty = document.getElementById("conv-empty");
    this.noMatch = document.getElementById("conv-no-match");
    this.tabActive = document.getElementById("tab-active");
    this.tabArchived = document.getElementById("tab-archived");
    this.backdrop = document.getElementById("sidebar-backdrop");
    this.openButton = document.getElementById("open-sidebar");
    this.archived = false;
    this.items = new Map(); // id -> conversation
    this.timer = null;
    this.generation = 0;
    this.search.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), SEARCH_DELAY_MS);
    });
    this.tabActive.addEventListener("click", () => this.showArchived(false));
    this.tabArchived.addEventListener("click", () => this.showArchived(true));
    this.openButton.addEventListener("click", () => this.setOpen(true));
    document.getElementById("close-sidebar").addEventListener("click", () => this.setOpen(false));
    this.backdrop.addEventListener("click", () => this.setOpen(false));
    this.list.addEventListener("click", (event) => this.onClick(event));
  }

  setOpen(open) {
    this.root.classList.toggle("open", open);
    this.backdrop.hidden = !open;
    this.openButton.setAttribute("aria-expanded", String(open));
    if (open) this.search.focus({ preventScroll: true });
  }

  showArchived(archived) {
    this.archived = archived;
    this.tabActive.setAttribute("aria-pressed", String(!archived));
    this.tabArchived.setAttribute("aria-pressed", String(archived));
    this.refresh();
  }

  /** Reload the list from the API (the current search and tab). */
  async refresh() {
    const generation = ++this.generation;
    const query = this.search.value.trim();
    let data;
    try {
      data = await api.listConversations(query, this.archived);
    } catch (error) {
      this.handlers.onError(error);
      return;
    }
    // An older, slower answer must not overwrite a newer search's.
    if (generation !== this.generation) return;
    this.render(data.conversations || [], query);
  }

  render(conversations, query) {
    this.items = new Map(conversations.map((c) => [c.id, c]));
    this.list.replaceChildren(...conversations.map((c) => this.item(c)));
    this.empty.hidden = conversations.length > 0 || Boolean(query);
    this.noMatch.hidden = conversations.length > 0 || !query;
    this.markCurrent();
  }

  item(conversation) {
    const li = el("li", "conv-item");
    li.dataset.id = conversation.id;
    if (conversation.pinned) li.classList.add("pinned");
    const link = el("a", "conv-link");
    link.href = url("conversation_page", conversation.id);
    const title = el("span", "conv-title", titleOf(conversation));
    link.append(title);
    if (conversation.pinned) {
      const pin = el("span", "conv-pin");
      pin.title = gettext("Pinned");
      pin.append(icon("pin"));
      link.prepend(pin);
    }
    if (conversation.snippet) link.append(el("span", "conv-snippet", conversation.snippet));
    const actions = el("div", "conv-actions");
    const add = (action, label, name) => {
      const b = el("button", "icon-button");
      b.append(icon(name));
      b.type = "button";
      b.dataset.action = action;
      b.title = label;
      b.setAttribute("aria-label", label);
      actions.append(b);
    };
    add("rename", gettext("Rename"), "rename");
    if (conversation.pinned) add("pin", gettext("Unpin"), "unpin");
    else add("pin", gettext("Pin"), "pin");
    if (conversation.archived) add("archive", gettext("Unarchive"), "unarchive");
    else add("archive", gettext("Archive"), "archive");
    add("delete", gettext("Delete"), "delete");
    li.append(link, actions);
    return li;
  }

  markCurrent() {
    const current = this.handlers.currentId();
    for (const li of this.list.children) {
      const active = li.dataset.id === current;
      li.classList.toggle("active", active);
      const link = li.querySelector(".conv-link");
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  /** Show a conversation's new title or flags (conversation.updated, a PATCH). */
  update(conversation) {
    const li = this.list.querySelector(`li[data-id="${CSS.escape(conversation.id)}"]`);
    if (!li || li.querySelector(".rename-form")) return;
    const merged = { ...this.items.get(conversation.id), ...conversation };
    this.items.set(conversation.id, merged);
    const fresh = this.item(merged);
    li.replaceWith(fresh);
    this.markCurrent();
  }

  onClick(event) {
    const li = event.target.closest(".conv-item");
    if (!li) return;
    const id = li.dataset.id;
    const actionButton = event.target.closest("button[data-action]");
    if (actionButton) {
      event.preventDefault();
      const conversation = this.items.get(id);
      const action = actionButton.dataset.action;
      if (action === "rename") this.startRename(li, conversation);
      else if (action === "pin") this.patch(id, { pinned: !conversation.pinned }, true);
      else if (action === "archive") this.archive(conversation);
      else if (action === "delete") this.remove(conversation);
      return;
    }
    const link = event.target.closest("a.conv-link");
    if (link && !event.metaKey && !event.ctrlKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      this.setOpen(false);
      this.handlers.onOpen(id);
    }
  }

  async patch(id, fields, reload = false) {
    try {
      const data = await api.updateConversation(id, fields);
      if (reload) await this.refresh();
      else this.update(data.conversation);
      return data.conversation;
    } catch (error) {
      this.handlers.onError(error);
      return null;
    }
  }

  startRename(li, conversation) {
    const link = li.querySelector(".conv-link");
    const form = el("form", "rename-form");
    const input = el("input", "rename-input");
    input.type = "text";
    input.maxLength = 200;
    input.value = conversation.title || "";
    input.setAttribute("aria-label", gettext("New title"));
    form.append(input);
    link.hidden = true;
    li.prepend(form);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      form.remove();
      link.hidden = false;
      if (save && title && title !== conversation.title) {
        const updated = await this.patch(conversation.id, { title });
        if (updated) this.handlers.onRenamed?.(updated);
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      finish(true);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  }

  async archive(conversation) {
    const archived = !conversation.archived;
    const updated = await this.patch(conversation.id, { archived }, true);
    if (updated && archived) {
      const text = format(gettext("Conversation “%(title)s” archived."), {
        title: titleOf(conversation),
      });
      showToast(text, {
        action: {
          label: gettext("Undo"),
          run: () => this.patch(conversation.id, { archived: false }, true),
        },
      });
    }
  }

  async remove(conversation) {
    try {
      await api.deleteConversation(conversation.id);
    } catch (error) {
      this.handlers.onError(error);
      return;
    }
    this.list.querySelector(`li[data-id="${CSS.escape(conversation.id)}"]`)?.remove();
    this.items.delete(conversation.id);
    this.handlers.onDeleted(conversation.id);
    const text = format(gettext("Conversation “%(title)s” deleted."), {
      title: titleOf(conversation),
    });
    showToast(text, {
      timeout: 10000,
      action: {
        label: gettext("Undo"),
        run: async () => {
          try {
            await api.restoreConversation(conversation.id);
          } catch (error) {
            this.handlers.onError(error);
            return;
          }
          showToast(gettext("Conversation restored."), { timeout: 3000 });
          await this.refresh();
        },
      },
    });
  }
}
