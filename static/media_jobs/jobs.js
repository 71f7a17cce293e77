// The videos page: live job cards without reloads, and the form's per-model options.
//
// Live status is a light poll of the JSON status view (media_jobs:status): it works
// the same with the in-memory channel layer (where a Celery worker cannot reach the
// browser) and with Redis, and the database it reads is the truth anyway. The page
// asks every `poll_ms` while a job is in flight and five times less often otherwise
// (to notice jobs started in another tab), and not at all while hidden.

const config = JSON.parse(document.getElementById("media-jobs-config").textContent);
const sections = {
  queue: document.querySelector("[data-section=queue]"),
  gallery: document.querySelector("[data-section=gallery]"),
};
let since = "";
let active = document.querySelector(".job[data-status=queued], .job[data-status=submitted], .job[data-status=processing]") !== null;
let timer = null;

function cardFrom(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

function refreshEmptyNotes() {
  for (const [name, container] of Object.entries(sections)) {
    const note = document.querySelector(`[data-empty-for=${name}]`);
    if (note) note.hidden = container.querySelector(".job") !== null;
  }
}

function place(card, section) {
  const container = sections[section];
  // Newest first, as the server orders them: higher id first.
  const id = Number(card.dataset.jobId);
  const after = [...container.querySelectorAll(":scope > .job")].find(
    (other) => Number(other.dataset.jobId) < id,
  );
  container.insertBefore(card, after || null);
}

function apply(data) {
  const keep = new Set(data.ids.map(String));
  for (const card of document.querySelectorAll(".job[data-job-id]")) {
    if (!keep.has(card.dataset.jobId)) card.remove();
  }
  for (const job of data.jobs) {
    const current = document.getElementById(`job-${job.id}`);
    if (current && current.dataset.version === job.version) continue;
    const card = cardFrom(job.html);
    if (current && current.parentElement === sections[job.section]) {
      current.replaceWith(card);
    } else {
      if (current) current.remove();
      place(card, job.section);
    }
  }
  refreshEmptyNotes();
  tick();
}

async function poll() {
  timer = null;
  if (document.hidden) return;
  try {
    const url = new URL(config.status_url, window.location.href);
    if (since) url.searchParams.set("since", since);
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) {
      const data = await response.json();
      since = data.now;
      active = data.active;
      apply(data);
    }
  } catch (error) {
    // Offline for a moment: try again on the next round.
  }
  schedule();
}

function schedule() {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(poll, active ? config.poll_ms : config.poll_ms * 5);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) poll();
});

// Elapsed time on each card: since it was queued, until it finished.
function format(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function tick() {
  const now = Date.now();
  for (const clock of document.querySelectorAll("time.elapsed[data-start]")) {
    const start = Date.parse(clock.dataset.start);
    const end = clock.dataset.end ? Date.parse(clock.dataset.end) : now;
    if (!Number.isNaN(start)) clock.textContent = format((end - start) / 1000);
  }
}
setInterval(tick, 1000);
tick();

// Confirm destructive buttons (data-confirm) without inline handlers.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// The form: offer only the sizes and lengths the chosen model takes.
const form = document.querySelector("[data-video-form]");
function limitOptions() {
  if (!form) return;
  const model = config.models[form.elements.model.value];
  if (!model) return;
  const limit = (select, allowed) => {
    if (!select) return;
    for (const option of select.options) {
      option.disabled = option.value !== "" && !allowed.includes(option.value);
    }
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
      const first = [...select.options].find((option) => !option.disabled);
      if (first) select.value = first.value;
    }
  };
  limit(form.elements.size, model.sizes);
  limit(form.elements.duration, model.durations.map(String));
  if (form.elements.duration) {
    form.elements.duration.closest(".field").hidden = model.durations.length === 0;
  }
}
if (form) {
  form.elements.model.addEventListener("change", limitOptions);
  limitOptions();
}

schedule();
