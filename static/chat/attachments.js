// Images and short videos for a message (docs/chat.md, "Images and videos"): the
// attach button, drag-and-drop onto the conversation and paste from the clipboard.
// Each file is uploaded at once (XMLHttpRequest, for its upload progress) and shown
// in the tray with a remove button; message.send then names the ids the server gave.
// Attaching is offered only where the chosen model can take it (models[].vision).
// The server checks and normalises every file whatever the browser says; the checks
// here only save a pointless upload.

import { csrfToken, request } from "./api.js";
import { button, el } from "./dom.js";
import { format, gettext } from "./i18n.js";
import { url } from "./page.js";

function isVideo(file) {
  return /^video\//.test(file.type) || /\.(mp4|mov)$/i.test(file.name || "");
}

function megabytes(bytes) {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** Return the thumbnails of a message's attachments; each image opens full size,
 * a video plays in place. Alt text is the file's name. */
export function renderAttachments(attachments) {
  const box = el("div", "msg-attachments");
  for (const item of attachments || []) {
    const alt = item.name || gettext("Attached image");
    const link = el("a", "msg-attachment");
    link.href = item.url;
    link.target = "_blank";
    link.rel = "noopener";
    link.dataset.attachmentId = String(item.id);
    link.title = alt;
    if (item.kind === "video") {
      const video = el("video", "msg-attachment msg-attachment-video");
      video.dataset.attachmentId = String(item.id);
      video.src = item.url;
      video.controls = true;
      video.preload = "metadata";
      video.setAttribute("aria-label", alt);
      box.append(video);
      continue;
    }
    const img = el("img", "msg-attachment-img");
    img.src = item.thumbnail_url || item.url;
    img.alt = alt;
    img.loading = "lazy";
    link.append(img);
    box.append(link);
  }
  return box;
}

export class Attachments {
  /**
   * @param {{models: object[], limits: object, onNotice: (text) => void}} options
   */
  constructor({ models, limits, onNotice }) {
    this.models = models || [];
    this.maxBytes = (limits || {}).max_upload_bytes || 0;
    this.maxCount = (limits || {}).max_attachments || 10;
    this.onNotice = onNotice;
    this.items = []; // {file, name, kind, status, progress, data, node, bar, xhr}
    this.vision = null;
    this.model = "";
    this.button = document.getElementById("attach-button");
    this.input = document.getElementById("attach-input");
    this.tray = document.getElementById("attach-tray");
    this.dropZone = document.querySelector(".chat-main");
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.addFiles([...this.input.files]);
      this.input.value = "";
    });
    document.getElementById("composer-input").addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      this.addFiles(files);
    });
    this.dropZone.addEventListener("dragover", (event) => {
      if (!this.offered() || !event.dataTransfer?.types?.includes("Files")) return;
      event.preventDefault();
      this.dropZone.classList.add("drop-target");
    });
    this.dropZone.addEventListener("dragleave", (event) => {
      if (!this.dropZone.contains(event.relatedTarget)) {
        this.dropZone.classList.remove("drop-target");
      }
    });
    this.dropZone.addEventListener("drop", (event) => {
      this.dropZone.classList.remove("drop-target");
      const files = [...(event.dataTransfer?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      this.addFiles(files);
    });
    const picker = document.getElementById("model-picker");
    picker.addEventListener("change", () => this.setModel(picker.value));
  }

  /** Follow the chosen model: attaching is offered only where it can work. */
  setModel(code) {
    this.model = code;
    const model = this.models.find((m) => m.code === code);
    this.vision = model && model.vision ? model.vision : null;
    const offered = this.offered();
    this.button.hidden = !offered;
    this.input.accept = this.vision && this.vision.video
      ? "image/png,image/jpeg,image/webp,image/gif,video/mp4,video/quicktime"
      : "image/png,image/jpeg,image/webp,image/gif";
    this.updateNotice();
  }

  offered() {
    return Boolean(this.vision && this.vision.attachments);
  }

  label() {
    const model = this.models.find((m) => m.code === this.model);
    return model ? model.label : this.model;
  }

  updateNotice() {
    let text = "";
    if (this.items.length && !this.offered()) {
      text = format(
        gettext("%(model)s cannot take these attachments. Choose a vision model to send them, or remove them."),
        { model: this.label() },
      );
    }
    this.tray.dataset.warning = text;
    const warning = this.tray.querySelector(".attach-warning");
    if (warning) warning.textContent = text;
    if (warning) warning.hidden = !text;
  }

  addFiles(files) {
    if (!this.offered()) {
      this.onNotice(
        format(gettext("%(model)s cannot see images. Choose a vision model to attach them."), {
          model: this.label(),
        }),
      );
      return;
    }
    for (const file of files) {
      const video = isVideo(file);
      if (video && !this.vision.video) {
        this.onNotice(format(gettext("%(model)s cannot watch videos."), { model: this.label() }));
        continue;
      }
      const images = this.items.filter((i) => i.kind === "image").length;
      if (!video && images >= this.vision.images) {
        this.onNotice(
          format(gettext("%(model)s takes at most %(limit)s images in a message."), {
            model: this.label(),
            limit: this.vision.images,
          }),
        );
        break;
      }
      if (this.items.length >= this.maxCount) break;
      if (this.maxBytes && file.size > this.maxBytes) {
        this.onNotice(
          format(gettext("%(name)s is too large (%(size)s); the limit is %(limit)s."), {
            name: file.name,
            size: megabytes(file.size),
            limit: megabytes(this.maxBytes),
          }),
        );
        continue;
      }
      this.upload(this.addItem({ file, name: file.name || "", kind: video ? "video" : "image" }));
    }
  }

  addItem(item) {
    item.status = item.status || "uploading";
    item.node = el("li", "attach-item");
    item.node.dataset.status = item.status;
    const name = item.name || gettext("Attached image");
    if (item.kind === "video") {
      item.node.append(el("span", "attach-video", "▶"));
    } else {
      const img = el("img", "attach-preview");
      img.alt = name;
      img.src = item.file ? URL.createObjectURL(item.file) : item.data.thumbnail_url;
      item.node.append(img);
    }
    item.node.append(el("span", "attach-name", name));
    item.bar = el("progress", "attach-progress");
    item.bar.max = 100;
    item.bar.value = 0;
    item.bar.hidden = item.status !== "uploading";
    item.error = el("span", "attach-error");
    const remove = button("remove-attachment", "✕", "icon-button attach-remove");
    remove.setAttribute("aria-label", format(gettext("Remove %(name)s"), { name }));
    remove.addEventListener("click", () => this.remove(item));
    item.node.append(item.bar, item.error, remove);
    this.items.push(item);
    this.list().append(item.node);
    this.tray.hidden = false;
    this.updateNotice();
    return item;
  }

  list() {
    let list = this.tray.querySelector(".attach-list");
    if (!list) {
      const warning = el("p", "attach-warning");
      warning.setAttribute("role", "alert");
      warning.hidden = true;
      list = el("ul", "attach-list");
      this.tray.append(warning, list);
    }
    return list;
  }

  upload(item) {
    const body = new FormData();
    body.append("file", item.file, item.name || "pasted.png");
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", url("attachments"));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) item.bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      const data = xhr.response || {};
      if (xhr.status === 201 && data.attachment) {
        item.data = data.attachment;
        this.setStatus(item, "ready");
      } else {
        const message = (data.error && data.error.message) ||
          format(gettext("The upload failed (%(status)s)."), { status: xhr.status });
        this.fail(item, message);
      }
    });
    xhr.addEventListener("error", () =>
      this.fail(item, gettext("The server could not be reached. Check the connection and try again.")),
    );
    xhr.send(body);
  }

  setStatus(item, status) {
    item.status = status;
    item.node.dataset.status = status;
    item.bar.hidden = status !== "uploading";
    if (item.data) item.node.dataset.attachmentId = String(item.data.id);
  }

  fail(item, message) {
    this.setStatus(item, "failed");
    item.error.textContent = message;
    this.onNotice(format(gettext("%(name)s was not attached: %(message)s"), {
      name: item.name || gettext("Attached image"),
      message,
    }));
  }

  remove(item) {
    if (item.xhr && item.status === "uploading") item.xhr.abort();
    // An unsent upload the server holds goes now (else the daily purge takes it).
    if (item.status === "ready" && item.data && !item.keep) {
      request("DELETE", url("attachment", item.data.id)).catch(() => {});
    }
    this.items = this.items.filter((i) => i !== item);
    item.node.remove();
    this.tray.hidden = this.items.length === 0;
    this.updateNotice();
  }

  uploading() {
    return this.items.some((i) => i.status === "uploading");
  }

  /** Return the ids and previews of the tray, and empty it (the send owns them). */
  take() {
    const ready = this.items.filter((i) => i.status === "ready").map((i) => i.data);
    for (const item of [...this.items]) {
      item.keep = true;
      this.remove(item);
    }
    return ready;
  }

  /** Put attachments back in the tray (a refused send). */
  restore(attachments) {
    for (const data of attachments || []) {
      if (this.items.some((i) => i.data && i.data.id === data.id)) continue;
      const item = this.addItem({ data, name: data.name, kind: data.kind, status: "ready" });
      this.setStatus(item, "ready");
    }
  }

  /** Offer a failed message's attachments again: sent ones belong to their message,
   * so the server copies each into a new unsent attachment. */
  async copyBack(attachments) {
    for (const data of attachments || []) {
      try {
        const body = await request("POST", url("attachment_copy", data.id));
        this.restore([body.attachment]);
      } catch {
        // The text is back in the box either way; the image can be attached again.
      }
    }
  }
}
