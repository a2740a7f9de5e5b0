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

  function withParam(url, name, value) {
    return url + (url.includes("?") ? "&" : "?") + name + "=" + encodeURIComponent(value);
  }

  /* A thread (data-poll-url) asks every few seconds whether anything changed since its last
     answer (data-since); the idle answer is an empty 204. Older pages loaded by the agent stay. */
  function startPolling(el) {
    const seconds = Number(el.dataset.pollSeconds || 3);
    const stick = el.hasAttribute("data-stick-bottom");
    let since = el.dataset.since;
    if (stick) el.scrollTop = el.scrollHeight;
    setInterval(() => {
      if (document.hidden) return;
      fetch(withParam(el.dataset.pollUrl, "since", since), {credentials: "same-origin"}).then((r) => {
        if (r.status !== 200) return null;
        since = r.headers.get("X-Next-Since") || since;
        return r.text();
      }).then((html) => {
        if (html === null) return;
        const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        const older = [...el.querySelectorAll(":scope > .older-page")];
        const olderButton = older.length ? el.querySelector(":scope > .load-older") : null;
        el.innerHTML = html;
        if (older.length) {
          el.querySelector(":scope > .load-older")?.remove();
          el.prepend(...(olderButton ? [olderButton, ...older] : older));
        }
        localizeTimes(el);
        if (stick && atBottom) el.scrollTop = el.scrollHeight;
      }).catch(() => {});
    }, seconds * 1000);
  }

  /* "Load more" / "Older messages": the next page replaces the button (and brings its own). */
  function loadMore(button, wrapClass) {
    button.disabled = true;
    fetch(button.dataset.moreUrl, {credentials: "same-origin"}).then((r) => r.ok ? r.text() : null).then((html) => {
      if (html === null) { button.disabled = false; return; }
      const holder = document.createElement("div");
      holder.innerHTML = html;
      localizeTimes(holder);
      if (wrapClass) {
        holder.className = wrapClass;
        const next = holder.querySelector(":scope > .load-older");
        button.replaceWith(...(next ? [next, holder] : [holder]));
      } else {
        button.replaceWith(...holder.childNodes);
      }
    }).catch(() => { button.disabled = false; });
  }

  /* The conversation list asks only for what changed since its last answer, and puts each
     changed row where the list's order (data-key) says; rows beyond the loaded pages wait. */
  function startListUpdates(list) {
    const seconds = Number(list.dataset.pollSeconds || 3);
    let since = list.dataset.since;
    list.addEventListener("click", (e) => {
      const button = e.target.closest(".load-more");
      if (button) loadMore(button, null);
    });
    const refresh = () => {
      fetch(withParam(list.dataset.changesUrl, "since", since), {credentials: "same-origin"})
        .then((r) => r.status === 200 ? r.json() : null).then((changes) => {
          if (changes === null) return;
          if (changes.reset) return reloadList(list).then((next) => { since = next || since; });
          since = changes.next_since;
          changes.removed.forEach((id) => list.querySelector(`[data-conversation-id="${id}"]`)?.remove());
          changes.rows.forEach((row) => placeRow(list, row));
          localizeTimes(list);
        }).catch(() => {});
    };
    const pushed = listenForChanges(list, refresh);
    setInterval(() => { if (!document.hidden && !pushed()) refresh(); }, seconds * 1000);
  }

  /* Server push (PostgreSQL): the server names an event stream (data-events-url) whose "change"
     events say "ask for what changed"; while it is open the page does not poll. A stream ends
     after a while and EventSource reconnects; "ready" (each (re)connect) asks once, so nothing
     that changed in between is missed. Returns whether the stream is open right now. */
  function listenForChanges(list, refresh) {
    if (!list.dataset.eventsUrl || !window.EventSource) return () => false;
    let open = false;
    const source = new EventSource(list.dataset.eventsUrl);
    source.addEventListener("ready", () => { open = true; refresh(); });
    source.addEventListener("change", refresh);
    source.addEventListener("error", () => { open = false; });
    return () => open;
  }

  function placeRow(list, row) {
    list.querySelector(`[data-conversation-id="${row.id}"]`)?.remove();
    const holder = document.createElement("template");
    holder.innerHTML = row.html.trim();
    const later = [...list.querySelectorAll("[data-key]")].find((el) => el.dataset.key > row.key);
    const more = list.querySelector(".load-more");
    if (later) list.insertBefore(holder.content, later);
    else if (more) return; // it belongs to a page not loaded yet
    else list.append(holder.content);
    list.querySelector(".empty")?.remove();
  }

  function reloadList(list) {
    return fetch(list.dataset.changesUrl, {credentials: "same-origin"}).then((r) => {
      if (!r.ok) return null;
      const next = r.headers.get("X-Next-Since");
      return r.text().then((html) => { list.innerHTML = html; localizeTimes(list); return next; });
    });
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

  /* A canned reply is rendered for this conversation on the server and previewed (with
     warnings for unknown variables) before the agent inserts it into the reply box. */
  function setupCanned(select) {
    const box = document.querySelector(select.dataset.cannedPreview);
    const textarea = document.querySelector(select.dataset.cannedInto);
    const close = () => { box.hidden = true; select.value = ""; };
    select.addEventListener("change", () => {
      if (!select.value) return close();
      fetch(select.value, {credentials: "same-origin"}).then((r) => r.json()).then((json) => {
        box.querySelector(".canned-text").textContent = json.text ?? json.message;
        box.querySelector(".canned-text").classList.toggle("error", json.text === undefined);
        box.querySelector("[data-canned-insert]").hidden = json.text === undefined;
        const list = box.querySelector(".canned-warnings");
        list.replaceChildren(...(json.warnings || []).map((w) => {
          const li = document.createElement("li"); li.textContent = w; return li;
        }));
        box.dataset.text = json.text ?? "";
        box.hidden = false;
      }).catch(close);
    });
    box.querySelector("[data-canned-insert]").addEventListener("click", () => {
      insertAtCursor(textarea, box.dataset.text);
      close();
    });
    box.querySelector("[data-canned-cancel]").addEventListener("click", close);
  }

  document.addEventListener("DOMContentLoaded", () => {
    localizeTimes(document);
    // Bar heights come as data (the CSP allows no inline style attributes); CSSOM is allowed.
    document.querySelectorAll("[data-height]").forEach((el) => { el.style.height = el.dataset.height + "%"; });
    document.querySelectorAll("[data-poll-url]").forEach(startPolling);
    document.querySelectorAll("[data-changes-url]").forEach(startListUpdates);
    document.addEventListener("click", (e) => {
      const older = e.target.closest(".load-older");
      if (older) loadMore(older, "older-page");
    });
    document.querySelectorAll("textarea[data-segments-url]").forEach(setupCounter);
    document.querySelectorAll("textarea[data-preview-url]").forEach(setupPreview);
    document.querySelectorAll("[data-autosubmit]").forEach((el) =>
      el.addEventListener("change", () => el.form.requestSubmit()));
    document.querySelectorAll("select[data-canned-into]").forEach(setupCanned);
  });
})();
