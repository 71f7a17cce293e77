// The model picker (with each model's capabilities), the web-search and thinking
// switches (shown only for models that have them) and the settings panel: system
// prompt with presets, temperature, top_p and max_tokens within the platform's ranges.

import { api } from "./api.js";
import { el } from "./dom.js";
import { format, gettext } from "./i18n.js";
import { showToast } from "./toast.js";

// Each capability's badge, in the order shown (called when drawn: the catalog's
// language is the page's).
const CAPABILITIES = {
  text: () => gettext("text"),
  vision: () => gettext("vision"),
  roleplay: () => gettext("role-play"),
  web_search: () => gettext("web search"),
  thinking: () => gettext("thinking"),
};

function range(limits, name, fallback) {
  const value = limits && limits[name];
  if (Array.isArray(value)) return { min: value[0], max: value[1] };
  if (value && typeof value === "object") {
    return { min: value.min ?? fallback.min, max: value.max ?? fallback.max };
  }
  return fallback;
}

function formatTokens(count) {
  if (count >= 1000000) return `${Math.round(count / 100000) / 10}M`;
  if (count >= 1000) return `${Math.round(count / 1000)}K`;
  return String(count);
}

/** One number setting: a slider and a number box kept in step; empty = model default. */
class NumberSetting {
  constructor(id, { min, max, step, integer = false }, onChange) {
    this.box = document.getElementById(id);
    this.slider = document.getElementById(`${id}-range`);
    this.output = document.getElementById(id.replace("opt-", "out-"));
    this.integer = integer;
    for (const input of [this.box, this.slider]) {
      input.min = String(min);
      input.max = String(max);
      input.step = String(step);
    }
    this.min = min;
    this.max = max;
    this.slider.addEventListener("input", () => {
      this.box.value = this.slider.value;
      this.showOutput();
      onChange();
    });
    this.box.addEventListener("input", () => {
      if (this.box.value !== "") this.slider.value = this.box.value;
      this.showOutput();
      onChange();
    });
  }

  setMax(max) {
    this.max = max;
    this.box.max = String(max);
    this.slider.max = String(max);
  }

  set(value) {
    this.box.value = value === null || value === undefined ? "" : String(value);
    this.slider.value = this.box.value === "" ? String(this.slider.min) : this.box.value;
    this.slider.classList.toggle("unset", this.box.value === "");
    this.showOutput();
  }

  showOutput() {
    this.slider.classList.toggle("unset", this.box.value === "");
    if (this.output) this.output.textContent = this.box.value;
  }

  /** Return the value (null when empty) or throw a message when out of range. */
  value(label) {
    const raw = this.box.value.trim();
    if (raw === "") return null;
    const number = Number(raw);
    const ok = Number.isFinite(number) && number >= this.min && number <= this.max &&
      (!this.integer || Number.isInteger(number));
    if (!ok) {
      const text = gettext("%(field)s must be between %(min)s and %(max)s.");
      throw new Error(format(text, { field: label, min: this.min, max: this.max }));
    }
    return number;
  }
}

export class Settings {
  /**
   * @param {object} data the page data (models, presets, limits, default_model)
   * @param {{onChange: (fields) => void, onInvalid: (names) => void}} handlers the
   *   fields the user changed, or the names whose new value is refused in the page
   */
  constructor(data, handlers) {
    this.models = data.models || [];
    // Role-play models (CharGLM, Emohaa) are offered only in a conversation with a
    // character: the platform refuses them a request without one.
    this.roleplayModels = data.roleplay_models || [];
    this.withCharacter = false;
    this.defaultModel = data.default_model || (this.models[0] && this.models[0].code);
    this.presets = data.presets || { builtin: [], own: [] };
    this.handlers = handlers;
    this.picker = document.getElementById("model-picker");
    this.caps = document.getElementById("model-caps");
    this.webSearch = document.getElementById("opt-web-search");
    this.thinking = document.getElementById("opt-thinking");
    this.webSearchToggle = document.getElementById("web-search-toggle");
    this.thinkingToggle = document.getElementById("thinking-toggle");
    this.panel = document.getElementById("settings-panel");
    this.panelToggle = document.getElementById("settings-toggle");
    this.systemPrompt = document.getElementById("opt-system-prompt");
    this.presetPicker = document.getElementById("preset-picker");
    this.presetDelete = document.getElementById("preset-delete");
    this.status = document.getElementById("settings-status");
    const limits = data.limits || {};
    this.maxSystemPrompt = limits.max_system_prompt_chars || 0;
    if (this.maxSystemPrompt) this.systemPrompt.maxLength = this.maxSystemPrompt;
    const changed = () => this.changed(["temperature", "top_p", "max_tokens"]);
    const temp = range(limits, "temperature", { min: 0, max: 1 });
    const topP = range(limits, "top_p", { min: 0, max: 1 });
    const maxTokens = range(limits, "max_tokens", { min: 1, max: 4095 });
    this.temperature = new NumberSetting("opt-temperature", { ...temp, step: 0.01 }, changed);
    // top_p = 0 is refused by the platform: the smallest value offered is one step up.
    this.topP = new NumberSetting(
      "opt-top-p",
      { min: Math.max(topP.min, 0.01), max: topP.max, step: 0.01 },
      changed,
    );
    this.maxTokens = new NumberSetting(
      "opt-max-tokens",
      { ...maxTokens, step: 1, integer: true },
      changed,
    );
    this.maxTokensLimit = maxTokens.max;

    this.renderModels();
    this.picker.addEventListener("change", () => {
      this.showCapabilities();
      // A model that thinks does so unless told not to (the platform's default, and
      // the server's rule for a model change: chat/conversation_settings.py).
      this.thinking.checked = this.supports("thinking");
      this.changed(["model", "web_search", "thinking", "max_tokens"]);
    });
    this.webSearch.addEventListener("change", () => this.changed(["web_search"]));
    this.thinking.addEventListener("change", () => this.changed(["thinking"]));
    let promptTimer = null;
    this.systemPrompt.addEventListener("input", () => {
      clearTimeout(promptTimer);
      promptTimer = setTimeout(() => this.changed(["system_prompt"]), 600);
    });
    this.systemPrompt.addEventListener("change", () => {
      clearTimeout(promptTimer);
      this.changed(["system_prompt"]);
    });
    this.panelToggle.addEventListener("click", () => this.setPanelOpen(this.panel.hidden));
    document.getElementById("settings-close").addEventListener("click", () => this.setPanelOpen(false));
    document.getElementById("settings-reset").addEventListener("click", () => {
      this.temperature.set(null);
      this.topP.set(null);
      this.maxTokens.set(null);
      this.changed(["temperature", "top_p", "max_tokens"]);
    });
    this.presetPicker.addEventListener("change", () => this.applyPreset());
    document.getElementById("preset-save").addEventListener("click", () => this.savePreset());
    this.presetDelete.addEventListener("click", () => this.deletePreset());
    this.renderPresets();
    this.load(null);
  }

  setPanelOpen(open) {
    this.panel.hidden = !open;
    this.panelToggle.setAttribute("aria-expanded", String(open));
  }

  /** The models the picker offers now: role-play ones only with a character. */
  offered() {
    return this.withCharacter ? [...this.models, ...this.roleplayModels] : this.models;
  }

  renderModels() {
    this.picker.replaceChildren();
    for (const model of this.models) {
      const option = el("option", "", model.label || model.code);
      option.value = model.code;
      this.picker.append(option);
    }
    if (this.withCharacter && this.roleplayModels.length) {
      const group = el("optgroup");
      group.label = gettext("Role-play");
      for (const model of this.roleplayModels) {
        const option = el("option", "", model.label || model.code);
        option.value = model.code;
        group.append(option);
      }
      this.picker.append(group);
    }
  }

  model() {
    return this.offered().find((m) => m.code === this.picker.value) || null;
  }

  supports(capability) {
    const model = this.model();
    return Boolean(model && (model.capabilities || []).includes(capability));
  }

  /** Show a conversation's settings (null: the defaults of a new chat). */
  load(conversation) {
    const c = conversation || {};
    if (Boolean(c.character) !== this.withCharacter) {
      this.withCharacter = Boolean(c.character);
      this.renderModels();
    }
    const code = c.model || this.defaultModel;
    if (code && ![...this.picker.options].some((o) => o.value === code)) {
      // A model no longer in the catalog stays selectable for its old conversations.
      const option = el("option", "", code);
      option.value = code;
      option.dataset.extra = "1";
      this.picker.append(option);
    }
    this.picker.value = code || "";
    this.webSearch.checked = Boolean(c.web_search);
    this.systemPrompt.value = c.system_prompt || "";
    this.temperature.set(c.temperature);
    this.topP.set(c.top_p);
    this.maxTokens.set(c.max_tokens);
    this.presetPicker.value = "";
    this.presetDelete.hidden = true;
    this.invalid = false;
    this.showStatus("");
    this.showCapabilities();
    // A new chat starts as the platform would act: thinking on where the model thinks.
    this.thinking.checked = conversation ? Boolean(c.thinking) : this.supports("thinking");
  }

  showCapabilities() {
    const model = this.model();
    const caps = (model && model.capabilities) || ["text"];
    this.caps.replaceChildren();
    for (const [key, label] of Object.entries(CAPABILITIES)) {
      if (caps.includes(key)) this.caps.append(el("span", `cap cap-${key}`, label()));
    }
    if (model && model.context) {
      const text = format(gettext("%(tokens)s context"), { tokens: formatTokens(model.context) });
      this.caps.append(el("span", "cap cap-context", text));
    }
    this.webSearchToggle.hidden = !caps.includes("web_search");
    this.thinkingToggle.hidden = !caps.includes("thinking");
    const maxOutput = (model && model.max_output) || this.maxTokensLimit;
    this.maxTokens.setMax(Math.min(maxOutput, this.maxTokensLimit || maxOutput));
  }

  /** Return the options as message.send and the API take them; throw on a bad value. */
  values() {
    // A model that left the catalog is kept by its conversation but cannot be asked for.
    const known = this.offered().some((m) => m.code === this.picker.value);
    return {
      ...(known ? { model: this.picker.value } : {}),
      system_prompt: this.systemPrompt.value,
      temperature: this.temperature.value(gettext("Temperature")),
      top_p: this.topP.value("top_p"),
      max_tokens: this.maxTokens.value(gettext("Max tokens")),
      web_search: this.supports("web_search") && this.webSearch.checked,
      thinking: this.supports("thinking") && this.thinking.checked,
    };
  }

  changed(names) {
    let values;
    try {
      values = this.values();
    } catch (error) {
      // The error stays until a value is fixed: nothing is sent meanwhile, and an
      // older change the server confirms now does not claim "Saved" over it.
      this.invalid = true;
      this.showStatus(error.message, true);
      this.handlers.onInvalid(names);
      return;
    }
    this.invalid = false;
    this.showStatus("");
    const fields = {};
    for (const name of names) fields[name] = values[name];
    this.handlers.onChange(fields);
  }

  showStatus(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle("error", error);
  }

  /** Say the server accepted a change, unless a value in the panel is refused now. */
  showSaved() {
    if (!this.invalid) this.showStatus(gettext("Saved"));
  }

  allPresets() {
    return [...(this.presets.builtin || []), ...(this.presets.own || [])];
  }

  renderPresets() {
    const first = this.presetPicker.options[0];
    this.presetPicker.replaceChildren(first);
    const groups = [
      [gettext("Built-in"), this.presets.builtin || []],
      [gettext("Yours"), this.presets.own || []],
    ];
    for (const [label, presets] of groups) {
      if (!presets.length) continue;
      const group = el("optgroup");
      group.label = label;
      for (const preset of presets) {
        const option = el("option", "", preset.name);
        option.value = String(preset.id);
        group.append(option);
      }
      this.presetPicker.append(group);
    }
  }

  applyPreset() {
    const preset = this.allPresets().find((p) => String(p.id) === this.presetPicker.value);
    this.presetDelete.hidden = !preset || preset.builtin;
    if (!preset) return;
    this.systemPrompt.value = preset.system_prompt;
    this.changed(["system_prompt"]);
  }

  async savePreset() {
    const prompt = this.systemPrompt.value.trim();
    if (!prompt) {
      this.showStatus(gettext("Write a system prompt first."), true);
      return;
    }
    const name = (window.prompt(gettext("Name for this preset")) || "").trim();
    if (!name) return;
    try {
      const data = await api.createPreset({ name, system_prompt: prompt });
      const preset = data.preset || data;
      this.presets.own = [...(this.presets.own || []), preset].sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      this.renderPresets();
      this.presetPicker.value = String(preset.id);
      this.presetDelete.hidden = false;
      this.showStatus(format(gettext("Preset “%(name)s” saved."), { name }));
    } catch (error) {
      this.showStatus(error.message, true);
    }
  }

  async deletePreset() {
    const preset = (this.presets.own || []).find((p) => String(p.id) === this.presetPicker.value);
    if (!preset) return;
    const question = format(gettext("Delete the preset “%(name)s”?"), { name: preset.name });
    if (!window.confirm(question)) return;
    try {
      await api.deletePreset(preset.id);
    } catch (error) {
      showToast(error.message, { kind: "error" });
      return;
    }
    this.presets.own = this.presets.own.filter((p) => p !== preset);
    this.renderPresets();
    this.presetDelete.hidden = true;
  }
}
