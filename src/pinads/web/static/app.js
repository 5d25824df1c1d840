// pinads: small progressive enhancements (no framework, no build step).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Forms that ask for confirmation before a destructive action.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Searchable lists: an input with data-filter="#list" hides the labels that do not match.
function setupFilters() {
  document.querySelectorAll("input[data-filter]").forEach((input) => {
    const list = document.querySelector(input.dataset.filter);
    if (!list) return;
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      list.querySelectorAll("[data-search]").forEach((item) => {
        const text = item.dataset.search.toLowerCase();
        item.hidden = !words.every((w) => text.includes(w));
      });
    });
  });
}

// Attributes & metrics: explain incompatible choices as they are made.
function setupSelectionCheck() {
  const form = document.querySelector("form[data-validate-selection]");
  if (!form) return;
  const out = document.getElementById("selection-problems");
  const check = async () => {
    const data = new FormData(form);
    const body = {
      dataset: form.dataset.validateSelection,
      attributes: data.getAll("attributes"),
      metrics: data.getAll("metrics"),
      granularity: data.get("granularity") || "DAY",
    };
    const response = await fetch("/api/validate-selection", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    });
    if (!response.ok) return;
    const result = await response.json();
    out.replaceChildren(...result.problems.map((p) => {
      const li = document.createElement("li");
      li.textContent = p.message;
      return li;
    }));
    out.hidden = result.problems.length === 0;
  };
  form.addEventListener("change", check);
  check();
}

// Snapshot: "Show advanced settings" reveals exact time and timezone.
function setupAdvanced() {
  const toggle = document.getElementById("show_advanced");
  const box = document.getElementById("advanced-settings");
  if (!toggle || !box) return;
  const sync = () => { box.hidden = !toggle.checked; };
  toggle.addEventListener("change", sync);
  sync();
}

// Live progress of background runs: poll the job's JSON endpoint.
function setupJobs() {
  document.querySelectorAll("[data-job]").forEach((box) => {
    const bar = box.querySelector("progress");
    const text = box.querySelector(".job-text");
    const status = box.querySelector(".job-status");
    const poll = async () => {
      const response = await fetch(`/api/jobs/${box.dataset.job}`, { headers: { Accept: "application/json" } });
      if (!response.ok) { text.textContent = "progress unavailable"; return; }
      const job = await response.json();
      bar.max = Math.max(job.steps_total, 1);
      bar.value = job.steps_done;
      status.textContent = job.status;
      status.className = `job-status badge ${job.status}`;
      text.textContent = job.status === "failed" ? job.error
        : `${job.steps_done}/${job.steps_total} steps, ${job.rows} rows, ${job.api_calls} API calls ${job.current || ""}`;
      if (job.status === "running") setTimeout(poll, 700);
      else box.dataset.finished = job.status;
    };
    poll();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupFilters();
  setupSelectionCheck();
  setupAdvanced();
  setupJobs();
});

// Selects with data-autosubmit submit the form with that nav value when changed.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.dataset.autosubmit) return;
  const form = select.form;
  const nav = document.createElement("input");
  nav.type = "hidden";
  nav.name = "nav";
  nav.value = select.dataset.autosubmit;
  form.appendChild(nav);
  form.submit();
});
