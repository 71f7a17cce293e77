// An agent reply's tool calls (glm-4-assistant): one collapsible block per call with
// the tool's name, its input and its outputs, all as text (the outputs come from the
// platform and the web: untrusted, so never markup, and links only http/https).
import { el } from "./dom.js";
import { gettext } from "./i18n.js";
import { isWebLink } from "./citations.js";

const NAMES = {
  web_browser: () => gettext("Web search"),
  code_interpreter: () => gettext("Code interpreter"),
  drawing_tool: () => gettext("Drawing"),
  retrieval: () => gettext("Knowledge retrieval"),
  function: () => gettext("Function call"),
};

function outputNode(output) {
  const item = el("li", "tool-output");
  if (output.error) {
    item.classList.add("tool-output-error");
    item.append(el("span", "msg-error-text", output.error));
  }
  const link = String(output.link || output.image || "");
  const title = String(output.title || "");
  if (isWebLink(link)) {
    const a = el("a", "", title || link);
    a.href = link;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    item.append(a);
  } else if (title) {
    item.append(el("span", "", title));
  }
  const text = String(output.content || output.logs || "");
  if (text) item.append(el("pre", "tool-output-text", text));
  return item;
}

/** Return the blocks of `calls` (a message's tool_calls) as a fragment. */
export function renderToolCalls(calls) {
  const fragment = document.createDocumentFragment();
  for (const call of calls || []) {
    const block = el("details", "tool-call");
    block.dataset.tool = String(call.type || "");
    const name = NAMES[call.type] ? NAMES[call.type]() : String(call.type || "");
    block.append(el("summary", "tool-call-name", name));
    if (call.input) {
      block.append(el("p", "tool-call-label", gettext("Input")));
      block.append(el("pre", "tool-call-input", String(call.input)));
    }
    const outputs = call.outputs || [];
    if (outputs.length) {
      block.append(el("p", "tool-call-label", gettext("Output")));
      const list = el("ul", "tool-outputs");
      for (const output of outputs) list.append(outputNode(output));
      block.append(list);
    }
    fragment.append(block);
  }
  return fragment;
}
