/* smsdesk: a little JavaScript for live updates, counters and previews. No framework. */
(function () {
  "use strict";
  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const DEBOUNCE_MS = 250; // wait this long after the last keystroke before asking the server

  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken},
      body: JSON.stringify(data),
    }).then((r) => r.json().then((json) => ({ok: r.ok, status: r.status, json})));
  }

  function debounce(fn) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), DEBOUNCE_MS); };
  }

  /* Show times in the agent's own time zone; "5 min" style for list entries. */
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      el.title = at.toLocaleString();
      if (el.hasAttribute("data-relative")) {
        const minutes = Math.round((Date.now() - at) / 60000);
        el.textContent = minutes < 1 ? "now" : minutes < 60 ? minutes + " min"
          : minutes < 1440 ? Math.round(minutes / 60) + " h" : at.toLocaleDateString();
      } else {
        const sameDay = at.toDateString() === new Date().toDateString();
        el.textContent = (sameDay ? "" : at.toLocaleDateString() + " ") +
          at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
      }
    });
  }

  /* Elements with data-poll-url are refreshed from that HTML fragment every few seconds. */
  function startPolling(el) {
    const seconds = Number(el.dataset.pollSeconds || 3);
    const stick = el.hasAttribute("data-stick-bottom");
    let last = el.innerHTML;
    if (stick) el.scrollTop = el.scrollHeight;
    setInterval(() => {
      if (document.hidden) return;
      fetch(el.dataset.pollUrl, {credentials: "same-origin"}).then((r) => r.ok ? r.text() : null).then((html) => {
        if (html === null || html === last) return;
        const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        last = html;
        el.innerHTML = html;
        localizeTimes(el);
        if (stick && atBottom) el.scrollTop = el.scrollHeight;
      }).catch(() => {});
    }, seconds * 1000);
  }

  function describeSegments(info) {
    return info.characters + " / " + info.per_segment + " · " + info.segments + " segment" +
      (info.segments === 1 ? "" : "s") + " · " + info.encoding;
  }

  /* The reply box counts segments and encoding as the agent types. */
  function setupCounter(textarea) {
    const counter = document.querySelector(textarea.dataset.counter);
    const update = debounce(() => postJSON(textarea.dataset.segmentsUrl, {text: textarea.value}).then(({ok, json}) => {
      if (!ok) return;
      counter.textContent = describeSegments(json);
      counter.classList.toggle("warn", json.encoding === "UCS-2" && json.non_gsm_characters.length > 0);
      counter.title = json.non_gsm_characters.length ? "Not GSM-7: " + json.non_gsm_characters.join(" ") : "";
    }));
    textarea.addEventListener("input", update);
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); textarea.form.requestSubmit(); }
    });
    update();
  }

  /* The template editor previews with sample data and warns about UCS-2. */
  function setupPreview(textarea) {
    const $ = (id) => document.getElementById(id);
    const show = (el, text) => { el.hidden = !text; el.textContent = text || ""; };
    const update = debounce(() => postJSON(textarea.dataset.previewUrl, {body: textarea.value}).then(({ok, json}) => {
      if (!ok) {
        show($("preview-error"), (json.line ? "Line " + json.line + ": " : "") + (json.reason || json.message));
        return;
      }
      show($("preview-error"), "");
      $("preview-text").textContent = json.text;
      $("preview-segments").textContent = json.segments + " segment" + (json.segments === 1 ? "" : "s");
      $("preview-encoding").textContent = json.encoding;
      $("preview-characters").textContent = json.characters + " / " + json.per_segment + " per segment";
      const costly = json.segments > json.segments_without_non_gsm;
      show($("preview-warning"), json.non_gsm_characters.length === 0 ? "" :
        "Not in GSM-7: " + json.non_gsm_characters.join(" ") + " — the whole text is sent as UCS-2" +
        (costly ? ", " + json.segments + " segments instead of " + json.segments_without_non_gsm + "." : "."));
    }));
    textarea.addEventListener("input", update);
    update();
    document.querySelectorAll("[data-insert-variable]").forEach((chip) => chip.addEventListener("click", () => {
      insertAtCursor(textarea, "{{ " + chip.dataset.insertVariable + " }}");
      update();
    }));
  }

  function insertAtCursor(textarea, text) {
    const start = textarea.selectionStart, end = textarea.selectionEnd;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.focus();
    textarea.dispatchEvent(new Event("input"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    localizeTimes(document);
    // Bar heights come as data (the CSP allows no inline style attributes); CSSOM is allowed.
    document.querySelectorAll("[data-height]").forEach((el) => { el.style.height = el.dataset.height + "%"; });
    document.querySelectorAll("[data-poll-url]").forEach(startPolling);
    document.querySelectorAll("textarea[data-segments-url]").forEach(setupCounter);
    document.querySelectorAll("textarea[data-preview-url]").forEach(setupPreview);
    document.querySelectorAll("[data-autosubmit]").forEach((el) =>
      el.addEventListener("change", () => el.form.requestSubmit()));
    document.querySelectorAll("select[data-insert-into]").forEach((select) => select.addEventListener("change", () => {
      if (select.value) insertAtCursor(document.querySelector(select.dataset.insertInto), select.value);
      select.value = "";
    }));
  });
})();
