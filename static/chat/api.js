// The HTTP JSON API: every call sends the CSRF token and turns an error body
// ({"error": {"code", "message", "fields"?}}) into an ApiError with the server's
// (already translated) message.

import { format, gettext } from "./i18n.js";
import { url } from "./page.js";

export class ApiError extends Error {
  constructor(status, code, message, fields = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Send a JSON request; resolve to the parsed body (or null for 204), reject with ApiError. */
export async function request(method, url, body = undefined) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(
      0,
      "network",
      gettext("The server could not be reached. Check the connection and try again."),
    );
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message ||
        format(gettext("The request failed: %(message)s"), { message: response.status }),
      error.fields || null,
    );
  }
  return data;
}

export const api = {
  listConversations: (query = "", archived = false, cursor = "") => {
    const params = new URLSearchParams({ q: query, archived: archived ? "1" : "0" });
    if (cursor) params.set("cursor", cursor);
    return request("GET", `${url("conversations")}?${params}`);
  },
  /** A page of visible messages before message `before` (docs/chat.md). */
  olderMessages: (id, before) => {
    const params = new URLSearchParams({ before: String(before) });
    return request("GET", `${url("conversation_messages", id)}?${params}`);
  },
  createConversation: (fields) => request("POST", url("conversations"), fields),
  updateConversation: (id, fields) => request("PATCH", url("conversation", id), fields),
  deleteConversation: (id) => request("DELETE", url("conversation", id)),
  restoreConversation: (id) => request("POST", url("conversation_restore", id)),
  createPreset: (fields) => request("POST", url("presets"), fields),
  deletePreset: (id) => request("DELETE", url("preset", id)),
  chooseGreeting: (id, index) => request("POST", url("greeting", id), { index }),
  exportUrl: (id, kind) => url(kind === "md" ? "export_md" : "export_json", id),
};
