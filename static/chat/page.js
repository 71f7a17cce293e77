// What the chat page starts from: the data chat/views.py page_data() gives the
// template (json_script "chat-data"), the page's URLs among it, so no script writes a
// URL of its own.

export const data = JSON.parse(document.getElementById("chat-data").textContent);

/** Return the page's URL `name` (page_urls() in chat/views.py), `id` filling {id}. */
export function url(name, id = "") {
  const template = data.urls[name];
  if (template === undefined) throw new Error(`The page data has no URL "${name}".`);
  return template.replace("{id}", encodeURIComponent(String(id)));
}
