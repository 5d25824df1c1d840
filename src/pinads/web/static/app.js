// pinads: small progressive enhancements (no framework, no build step). Every page works
// without them; they make choices explain themselves as they are made.
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

// Attributes & metrics: a search over every group (matching groups open, the others hide),
// and the "Selected (n)" chips, each removable, kept in step with the boxes.
function pickerFilter(picker, search, groups, userOpen) {
  const found = document.getElementById("picker-found");
  const none = document.getElementById("picker-none");
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  let hits = 0;
  let shown = 0;
  groups.forEach((group) => {
    let inGroup = 0;
    group.querySelectorAll("li[data-search]").forEach((item) => {
      item.hidden = !words.every((w) => item.dataset.search.toLowerCase().includes(w));
      if (!item.hidden) inGroup += 1;
    });
    hits += inGroup;
    group.hidden = words.length > 0 && inGroup === 0;
    group.open = words.length > 0 ? inGroup > 0 : userOpen.get(group);
    if (!group.hidden) shown += 1;
  });
  if (!found.dataset.initial) found.dataset.initial = found.textContent;
  found.textContent = words.length ? `${hits} found in ${shown} group${shown === 1 ? "" : "s"}` : found.dataset.initial;
  none.hidden = !words.length || hits > 0;
  none.querySelector(".query").textContent = search.value;
}

function chipFor(kind, name, known) {
  const item = document.createElement("li");
  item.className = known ? "chip" : "chip unknown";
  item.dataset.kind = kind;
  item.dataset.name = name;
  const label = document.createElement("span");
  label.className = "chip-name";
  label.textContent = name;
  if (!known) {
    const note = document.createElement("span");
    note.className = "visually-hidden";
    note.textContent = " (not in this dataset)";
    label.append(note);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "chip-remove";
  remove.setAttribute("aria-label", `Remove ${name}`);
  remove.textContent = "×";
  item.append(label, remove);
  return item;
}

function renderChips(picker, form) {
  let total = 0;
  ["attributes", "metrics"].forEach((kind) => {
    const boxes = [...form.querySelectorAll(`input[type=checkbox][name=${kind}]:checked`)];
    const unknown = [...form.querySelectorAll(`input[type=hidden][name=${kind}][data-unknown]`)];
    const chips = [...boxes.map((i) => chipFor(kind, i.value, true)),
      ...unknown.map((i) => chipFor(kind, i.value, false))];
    picker.querySelector(`[data-chips=${kind}]`).replaceChildren(...chips);
    total += chips.length;
  });
  document.getElementById("selected-count").textContent = String(total);
  picker.querySelectorAll("details.picker-group").forEach((group) => {
    const n = group.querySelectorAll("input:checked").length;
    group.querySelector(".group-chosen").textContent = n ? `· ${n} selected` : "";
  });
}

function removeChip(picker, form, chip) {
  const { kind, name } = chip.dataset;
  const list = chip.parentElement;
  const index = [...list.children].indexOf(chip);
  const box = form.querySelector(`input[type=checkbox][name=${kind}][value="${CSS.escape(name)}"]`);
  if (box) box.checked = false;
  form.querySelectorAll(`input[type=hidden][name=${kind}][data-unknown][value="${CSS.escape(name)}"]`)
    .forEach((input) => input.closest(".unknown-name").remove());
  renderChips(picker, form);
  form.dispatchEvent(new Event("selection-changed"));
  // Focus stays in the chips (the next one, else the one before), else goes to the search.
  const buttons = list.querySelectorAll(".chip-remove");
  const next = buttons[Math.min(index, buttons.length - 1)];
  (next || picker.querySelector("[data-picker-search]")).focus();
}

function setupPicker() {
  const picker = document.getElementById("picker");
  if (!picker) return;
  const form = picker.closest("form");
  const search = picker.querySelector("[data-picker-search]");
  const groups = [...picker.querySelectorAll("details.picker-group")];
  const userOpen = new Map(groups.map((g) => [g, g.open]));
  groups.forEach((g) => g.addEventListener("toggle", () => {
    if (!search.value.trim()) userOpen.set(g, g.open);
  }));
  search.addEventListener("input", () => pickerFilter(picker, search, groups, userOpen));
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault(); // searching is not a step's answer
  });
  picker.addEventListener("change", (event) => {
    if (event.target.matches("input[type=checkbox]")) renderChips(picker, form);
  });
  picker.addEventListener("click", (event) => {
    const button = event.target.closest(".chip-remove");
    if (!button) return;
    event.preventDefault(); // without script it posts remove:KIND:NAME instead
    removeChip(picker, form, button.closest(".chip"));
  });
  renderChips(picker, form);
}

// Dataset step: the list narrows as the user types, with the server's search (names,
// attributes, metrics) and its reason for each match; the Search button stays for no-JS.
function setupDatasetSearch() {
  const input = document.querySelector("input[data-dataset-search]");
  const list = document.getElementById("datasets");
  if (!input || !list) return;
  const count = document.getElementById("dataset-count");
  const none = document.getElementById("no-dataset");
  let timer = null;
  let asked = 0;
  const search = async () => {
    const query = input.value.trim();
    const mine = ++asked;
    const response = await fetch(`/api/datasets?q=${encodeURIComponent(query)}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok || mine !== asked) return;
    const found = await response.json();
    const why = new Map(found.map((m) => [m.name, m.matched]));
    // Best match first: move the matches, in the search's order, to the end of the list.
    const labels = new Map([...list.querySelectorAll("label[data-dataset]")].map((l) => [l.dataset.dataset, l]));
    found.forEach((m) => { if (labels.has(m.name)) list.insertBefore(labels.get(m.name), none); });
    let shown = 0;
    list.querySelectorAll("label[data-dataset]").forEach((label) => {
      const radio = label.querySelector("input");
      const match = why.has(label.dataset.dataset);
      label.hidden = !match && !radio.checked;
      if (!label.hidden) shown += 1;
      const reason = label.querySelector(".why");
      const text = match ? why.get(label.dataset.dataset) : "";
      reason.textContent = text ? `matches ${text}` : "";
      reason.hidden = !text;
      label.querySelector(".why-break").hidden = !text;
    });
    count.textContent = String(shown);
    none.hidden = shown > 0;
    none.querySelector(".query").textContent = query;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  // Enter searches in place instead of submitting the step.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      search();
    }
  });
}

// Account step: "All" and single accounts exclude each other, so what is ticked is what runs.
function setupExclusiveChecks() {
  document.querySelectorAll("fieldset[data-exclusive]").forEach((box) => {
    const all = box.querySelector(`input[value="${box.dataset.exclusive}"]`);
    const others = [...box.querySelectorAll("input[type=checkbox]")].filter((i) => i !== all);
    all.addEventListener("change", () => {
      if (all.checked) others.forEach((i) => { i.checked = false; });
    });
    others.forEach((i) => i.addEventListener("change", () => {
      if (i.checked) all.checked = false;
      if (!others.some((o) => o.checked)) all.checked = true;
    }));
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
  form.addEventListener("change", (event) => {
    if (event.target.matches("input[type=checkbox], select")) check();
  });
  form.addEventListener("selection-changed", check);
}

// Snapshot: "Show advanced settings" reveals exact time and timezone; each field shows only
// for the frequencies it applies to.
function setupSchedule() {
  const toggle = document.getElementById("show_advanced");
  const box = document.getElementById("advanced-settings");
  const frequency = document.getElementById("frequency");
  if (!toggle || !box || !frequency) return;
  const sync = () => {
    box.hidden = !toggle.checked;
    document.querySelectorAll("[data-for]").forEach((el) => {
      el.hidden = !el.dataset.for.split(" ").includes(frequency.value);
    });
  };
  toggle.addEventListener("change", sync);
  frequency.addEventListener("change", sync);
  sync();
}

function jobText(job) {
  if (job.status === "failed") return job.error || "failed";
  if (job.status === "succeeded") {
    const seconds = job.result ? ` in ${job.result.duration_seconds.toFixed(1)} s` : "";
    return `done: ${job.rows.toLocaleString()} rows written, ${job.steps_done} steps, ` +
      `${job.api_calls} API calls${seconds}`;
  }
  if (!job.steps_total) return "starting: listing ad accounts and planning the requests…";
  return `${job.steps_done}/${job.steps_total} steps, ${job.rows.toLocaleString()} rows, ` +
    `${job.api_calls} API calls${job.current ? ` · now: ${job.current}` : ""}`;
}

// The run history card, fetched again once a run ends (it now has the run's record).
async function refreshHistory() {
  const card = document.getElementById("run-history");
  if (!card) return;
  const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("run-history");
  if (fresh) card.replaceWith(fresh);
}

// Live progress of background runs: poll the job's JSON endpoint.
function setupJobs() {
  document.querySelectorAll("[data-job]").forEach((box) => {
    const bar = box.querySelector("progress");
    const text = box.querySelector(".job-text");
    const status = box.querySelector(".job-status");
    const poll = async () => {
      const response = await fetch(`/api/jobs/${box.dataset.job}`, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        text.textContent = "progress unavailable (the server restarted?): the run history below has the outcome";
        return;
      }
      const job = await response.json();
      bar.max = Math.max(job.steps_total, 1);
      bar.value = job.status === "succeeded" ? bar.max : job.steps_done;
      status.textContent = job.status;
      status.className = `job-status badge ${job.status}`;
      text.textContent = jobText(job);
      if (job.status === "running") {
        setTimeout(poll, 700);
        return;
      }
      const note = box.querySelector(".job-note");
      if (note) note.hidden = true;
      await refreshHistory();
      box.dataset.finished = job.status;
    };
    poll();
  });
}

// The wizard's steps without page loads: each step's form is posted in the background and
// the answer's <main> replaces this one (the draft travels in the form, as without script).
let swaps = 0;

function swapMain(html) {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const main = document.querySelector("main");
  const newMain = fresh.querySelector("main");
  if (!main || !newMain) return false;
  const focused = document.activeElement && document.activeElement.id;
  const oldStep = document.getElementById("wizard")?.dataset.step;
  main.replaceChildren(...[...newMain.childNodes].map((n) => document.adoptNode(n)));
  document.title = fresh.title;
  setupPage();
  const newStep = document.getElementById("wizard")?.dataset.step;
  // Same step (accounts loaded, a name replaced): focus stays on the control that was used;
  // a new step: focus its heading, so keyboard and screen reader users start at its top.
  const again = newStep === oldStep && focused ? document.getElementById(focused) : null;
  const target = again || document.querySelector("#step-problems, #selection-problems:not([hidden])")
    || document.getElementById("step-title") || newMain;
  if (target && target.focus) target.focus();
  if (!again) window.scrollTo(0, 0);
  swaps += 1;
  main.dataset.swap = String(swaps);
  return true;
}

async function sendWizard(form, data) {
  const main = document.querySelector("main");
  main.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { "X-Pinads-Fetch": "1" },
    });
    const location = response.headers.get("X-Pinads-Location");
    if (location) {
      window.location.assign(location);
      return;
    }
    if (response.redirected && new URL(response.url).pathname !== new URL(form.action).pathname) {
      window.location.assign(response.url); // the session ended: the login page
      return;
    }
    if (!swapMain(await response.text())) form.submit();
  } catch (error) {
    form.submit(); // the background request failed: the ordinary post still works
  } finally {
    main.removeAttribute("aria-busy");
  }
}

function setupWizardForm() {
  const form = document.getElementById("wizard");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendWizard(form, new FormData(form, event.submitter));
  });
  // Account step: choosing an authorizer lists its accounts in place (no step change, no
  // submit, so a keyboard user can arrow through the list: WCAG 3.2.2).
  const select = form.querySelector("select[data-refresh]");
  if (!select) return;
  let timer = null;
  select.addEventListener("change", () => {
    clearTimeout(timer);
    if (!select.value || select.value === "__new__") return;
    timer = setTimeout(() => {
      const data = new FormData(form);
      data.set("nav", "refresh");
      sendWizard(form, data);
    }, 250);
  });
}

function setupPage() {
  setupPicker();
  setupDatasetSearch();
  setupExclusiveChecks();
  setupSelectionCheck();
  setupSchedule();
  setupJobs();
  setupWizardForm();
}

document.addEventListener("DOMContentLoaded", setupPage);
