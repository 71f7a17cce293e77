// The list of conversations: search (titles and message text, debounced, by the API),
// active/archived tabs, and per item: rename in place, pin, archive, delete with undo,
// behind one ⋯ button (two tab stops per conversation, the title gets the row's width).
// On phones it is a drawer over the page; on wide screens it can be folded away (the
// choice is kept in localStorage).

import { api } from "./api.js";
import { timeElement } from "./dates.js";
import { el } from "./dom.js";
import { format, gettext } from "./i18n.js";
import { icon } from "./icons.js";
import { url } from "./page.js";
import { showToast } from "./toast.js";

const SEARCH_DELAY_MS = 250;
const COLLAPSED_KEY = "glmweb:sidebar-collapsed";
const PHONE = window.matchMedia("(max-width: 800px)");

function storedCollapsed() {
  try {
    return localStorage.getItem(COLLAPSED_KEY) === "1";
  } catch {
    return false;
  }
}

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
    this.app = document.getElementById("chat-app");
    this.collapseButton = document.getElementById("collapse-sidebar");
    this.openButton.addEventListener("click", () => {
      if (PHONE.matches) this.setOpen(true);
      else this.setCollapsed(false);
    });
    this.collapseButton.addEventListener("click", () => this.setCollapsed(true));
    document.getElementById("close-sidebar").addEventListener("click", () => this.setOpen(false));
    this.backdrop.addEventListener("click", () => this.setOpen(false));
    // Esc closes the ⋯ menu, else the phone's drawer (before the page's shortcuts).
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      if (this.closeMenu()) event.preventDefault();
      else if (PHONE.matches && this.isOpen()) {
        event.preventDefault();
        this.setOpen(false);
        this.openButton.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest(".conv-menu, .conv-more")) this.closeMenu();
    });
    this.list.addEventListener("click", (event) => this.onClick(event));
    // The API gives the list a page at a time: the next comes as the reader nears
    // the end of what is shown.
    this.nextCursor = null;
    this.loadingMore = false;
    this.nav = this.list.closest(".conv-nav");
    this.nav.addEventListener("scroll", () => this.maybeLoadMore(), { passive: true });
    this.setCollapsed(storedCollapsed(), { save: false });
  }

  isOpen() {
    return this.root.classList.contains("open");
  }

  setOpen(open) {
    this.root.classList.toggle("open", open);
    this.backdrop.hidden = !open;
    this.openButton.setAttribute("aria-expanded", String(open));
    if (open) this.search.focus({ preventScroll: true });
  }

  /** Fold the list away on a wide screen (or bring it back). */
  setCollapsed(collapsed, { save = true } = {}) {
    this.app.classList.toggle("sidebar-collapsed", collapsed);
    if (!PHONE.matches) this.openButton.setAttribute("aria-expanded", String(!collapsed));
    if (save) {
      try {
        localStorage.setItem(COLLAPSED_KEY, collapsed ? "1" : "0");
      } catch {
        // No storage: the choice lasts for this page only.
      }
      (collapsed ? this.openButton : this.search).focus();
    }
  }

  /** Show the list and put the cursor in its search box (Ctrl/⌘+K). */
  focusSearch() {
    if (PHONE.matches) this.setOpen(true);
    else this.setCollapsed(false, { save: false });
    this.search.focus();
    this.search.select();
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
    this.nextCursor = data.next_cursor || null;
    this.render(data.conversations || [], query);
    this.maybeLoadMore();
  }

  /** Load the next page when the end of the list is within a screen's height. */
  async maybeLoadMore() {
    if (!this.nextCursor || this.loadingMore) return;
    const nav = this.nav;
    if (nav.scrollHeight - nav.scrollTop - nav.clientHeight > nav.clientHeight) return;
    const generation = this.generation;
    this.loadingMore = true;
    let data;
    try {
      data = await api.listConversations(this.search.value.trim(), this.archived, this.nextCursor);
    } catch (error) {
      // Said once; the list goes on from its first page at the next refresh.
      this.nextCursor = null;
      this.handlers.onError(error);
      return;
    } finally {
      this.loadingMore = false;
    }
    // A new search or tab started meanwhile: its own first page replaces the list.
    if (generation !== this.generation) return;
    this.nextCursor = data.next_cursor || null;
    const rows = (data.conversations || []).filter((c) => !this.items.has(c.id));
    for (const conversation of rows) this.items.set(conversation.id, conversation);
    this.list.append(...rows.map((c) => this.item(c)));
    this.markCurrent();
    this.maybeLoadMore();
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
    if (conversation.updated_at) link.append(timeElement(conversation.updated_at, "conv-time"));
    if (conversation.pinned) {
      const pin = el("span", "conv-pin");
      pin.title = gettext("Pinned");
      pin.append(icon("pin"));
      link.prepend(pin);
    }
    if (conversation.snippet) link.append(el("span", "conv-snippet", conversation.snippet));
    const more = el("button", "icon-button conv-more", "⋯");
    more.type = "button";
    more.dataset.action = "menu";
    more.setAttribute("aria-haspopup", "menu");
    more.setAttribute("aria-expanded", "false");
    more.setAttribute(
      "aria-label",
      format(gettext("Actions for “%(title)s”"), { title: titleOf(conversation) }),
    );
    li.append(link, more);
    return li;
  }

  /** Open the ⋯ menu of `li`: rename, pin, archive, delete (arrow keys move in it). */
  openMenu(li, conversation) {
    this.closeMenu();
    const menu = el("div", "conv-menu");
    menu.setAttribute("role", "menu");
    const add = (action, label, name, className = "") => {
      const b = el("button", className);
      b.type = "button";
      b.dataset.action = action;
      b.setAttribute("role", "menuitem");
      b.append(icon(name), document.createTextNode(` ${label}`));
      menu.append(b);
    };
    add("rename", gettext("Rename"), "rename");
    if (conversation.pinned) add("pin", gettext("Unpin"), "unpin");
    else add("pin", gettext("Pin"), "pin");
    if (conversation.archived) add("archive", gettext("Unarchive"), "unarchive");
    else add("archive", gettext("Archive"), "archive");
    add("delete", gettext("Delete"), "delete", "danger");
    menu.addEventListener("keydown", (event) => {
      const items = [...menu.querySelectorAll("button")];
      const at = items.indexOf(document.activeElement);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        items[(at + step + items.length) % items.length].focus();
      }
    });
    li.append(menu);
    li.classList.add("menu-open");
    li.querySelector(".conv-more").setAttribute("aria-expanded", "true");
    menu.querySelector("button").focus();
  }

  /** Close the open ⋯ menu; return whether one was open. */
  closeMenu() {
    const menu = this.list.querySelector(".conv-menu");
    if (!menu) return false;
    const li = menu.closest(".conv-item");
    const hadFocus = menu.contains(document.activeElement);
    menu.remove();
    li.classList.remove("menu-open");
    const more = li.querySelector(".conv-more");
    more.setAttribute("aria-expanded", "false");
    if (hadFocus) more.focus();
    return true;
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
      if (action === "menu") {
        if (li.classList.contains("menu-open")) this.closeMenu();
        else this.openMenu(li, conversation);
        return;
      }
      this.closeMenu();
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
