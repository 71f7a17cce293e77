// The HTTP JSON API: every call sends the CSRF token and turns an error body
// ({"error": {"code", "message", "fields"?}}) into an ApiError with the server's
// (already translated) message.

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, fields = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

function csrfToken() {
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
    throw new ApiError(0, "network", t("network_error"));
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
      error.message || t("request_failed", { message: response.status }),
      error.fields || null,
    );
  }
  return data;
}

export const api = {
  listConversations: (query = "", archived = false) =>
    request(
      "GET",
      `/api/conversations/?q=${encodeURIComponent(query)}&archived=${archived ? 1 : 0}`,
    ),
  createConversation: (fields) => request("POST", "/api/conversations/", fields),
  getConversation: (id) => request("GET", `/api/conversations/${id}/`),
  updateConversation: (id, fields) =>
    request("PATCH", `/api/conversations/${id}/`, fields),
  deleteConversation: (id) => request("DELETE", `/api/conversations/${id}/`),
  restoreConversation: (id) => request("POST", `/api/conversations/${id}/restore/`),
  listPresets: () => request("GET", "/api/presets/"),
  createPreset: (fields) => request("POST", "/api/presets/", fields),
  deletePreset: (id) => request("DELETE", `/api/presets/${id}/`),
  exportUrl: (id, format) => `/api/conversations/${id}/export.${format}`,
};
