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
    showWaited(root);
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

  /* "waiting 12 min" on waiting conversations; the same steps as inbox.py's ``waited``. */
  function waited(since) {
    const minutes = Math.floor((Date.now() - new Date(since)) / 60000);
    return minutes < 1 ? "<1 min" : minutes < 60 ? minutes + " min"
      : minutes < 1440 ? Math.floor(minutes / 60) + " h" : Math.floor(minutes / 1440) + " d";
  }

  function showWaited(root) {
    root.querySelectorAll("[data-waiting-since]").forEach((el) => {
      if (!isNaN(new Date(el.dataset.waitingSince))) el.textContent = "waiting " + waited(el.dataset.waitingSince);
    });
  }

  /* The tab's title starts with the number of conversations waiting: "(3) Inbox · smsdesk". */
  function showWaiting(count) {
    if (count === null || count === undefined) return;
    const n = Number(count), plain = document.title.replace(/^\(\d+\) /, "");
    document.title = n > 0 ? "(" + n + ") " + plain : plain;
  }

  function withParam(url, name, value) {
    return url + (url.includes("?") ? "&" : "?") + name + "=" + encodeURIComponent(value);
  }

  /* A thread (data-poll-url) asks every few seconds whether anything changed since its last
     answer (data-since); the idle answer is an empty 204. Older pages loaded by the agent stay. */
  function startPolling(el) {
    const seconds = Number(el.dataset.pollSeconds || 3);
    if (el.hasAttribute("data-stick-bottom")) el.scrollTop = el.scrollHeight;
    setInterval(() => { if (!document.hidden) refreshThread(el); }, seconds * 1000);
  }

  /* One poll of the thread: its latest texts replace the shown ones when anything changed. */
  function refreshThread(el) {
    return fetch(withParam(el.dataset.pollUrl, "since", el.dataset.since), {credentials: "same-origin"}).then((r) => {
      if (r.status !== 200) return null;
      el.dataset.since = r.headers.get("X-Next-Since") || el.dataset.since;
      return r.text();
    }).then((html) => { if (html !== null) renderThread(el, html); }).catch(() => {});
  }

  /* Put the thread's latest texts in place without moving the agent: the scroll position stays
     (or follows new texts when the agent was at the bottom), and a focused Retry stays focused. */
  function renderThread(el, html) {
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    const scrollTop = el.scrollTop, pageScroll = window.scrollY;
    const focused = el.contains(document.activeElement) ? document.activeElement : null;
    const focusedRow = focused?.closest("[data-message-id]")?.dataset.messageId;
    const older = [...el.querySelectorAll(":scope > .older-page")];
    const olderButton = older.length ? el.querySelector(":scope > .load-older") : null;
    el.innerHTML = html;
    if (older.length) {
      el.querySelector(":scope > .load-older")?.remove();
      el.prepend(...(olderButton ? [olderButton, ...older] : older));
    }
    localizeTimes(el);
    el.scrollTop = el.hasAttribute("data-stick-bottom") && atBottom ? el.scrollHeight : scrollTop;
    if (window.scrollY !== pageScroll) window.scrollTo(window.scrollX, pageScroll);
    if (focused && !el.contains(focused)) {
      const again = focusedRow && el.querySelector(`[data-message-id="${focusedRow}"] button`);
      (again || el).focus({preventScroll: true});
    }
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
     changed row where the list's order (data-key) says; rows beyond the loaded pages wait.
     It keeps asking in a background tab only when the agent wants notifications or sound. */
  function startListUpdates(list) {
    const seconds = Number(list.dataset.pollSeconds || 3);
    list.addEventListener("click", (e) => {
      const button = e.target.closest(".load-more");
      if (button) loadMore(button, null);
    });
    const pushed = listenForChanges(list, () => refreshList(list));
    setInterval(() => { if ((!document.hidden || signals.wanted()) && !pushed()) refreshList(list); }, seconds * 1000);
  }

  let listQueue = Promise.resolve(); // one poll at a time: each starts from the last one's since

  function refreshList(list) {
    listQueue = listQueue.then(() => pollList(list)).catch(() => {});
    return listQueue;
  }

  function pollList(list) {
    const since = list.dataset.since;
    return fetch(withParam(list.dataset.changesUrl, "since", since), {credentials: "same-origin"})
      .then((r) => r.status === 200 ? r.json() : null).then((changes) => {
        if (changes === null) return;
        if (changes.reset) return reloadList(list).then((next) => { list.dataset.since = next || since; });
        list.dataset.since = changes.next_since;
        const pane = list.closest(".pane"), scrollTop = pane ? pane.scrollTop : 0;
        changes.removed.forEach((id) => list.querySelector(`[data-conversation-id="${id}"]`)?.remove());
        changes.rows.forEach((row) => placeRow(list, row));
        if (pane) pane.scrollTop = scrollTop;
        localizeTimes(list);
        showWaiting(changes.waiting);
        changes.rows.forEach((row) => signals.inbound(row, since));
      });
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
    const old = list.querySelector(`[data-conversation-id="${row.id}"]`);
    const hadFocus = old !== null && old === document.activeElement;
    old?.remove();
    const holder = document.createElement("template");
    holder.innerHTML = row.html.trim();
    const fresh = holder.content.firstElementChild;
    const later = [...list.querySelectorAll("[data-key]")].find((el) => el.dataset.key > row.key);
    const more = list.querySelector(".load-more");
    if (later) list.insertBefore(holder.content, later);
    else if (more) return; // it belongs to a page not loaded yet
    else list.append(holder.content);
    list.querySelector(".empty")?.remove();
    if (hadFocus) fresh?.focus({preventScroll: true}); // the refresh never takes the agent's place
  }

  function reloadList(list) {
    return fetch(list.dataset.changesUrl, {credentials: "same-origin"}).then((r) => {
      if (!r.ok) return null;
      const next = r.headers.get("X-Next-Since");
      showWaiting(r.headers.get("X-Waiting-Count"));
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
    const update = debounce(() => postJSON(textarea.dataset.segmentsUrl, {text: textarea.value, conversation: textarea.dataset.conversation}).then(({ok, json}) => {
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

  /* ---- Inbox: actions in place, drafts, shortcuts, signals (issue 12) ---- */

  /* A form marked data-ajax posts with fetch and asks for JSON (inbox.py ``_done``): the thread,
     the Close/Reopen and the assignment are replaced in place, the list refreshes, and the
     keyboard stays where it was. Without JavaScript the same form posts and redirects. */
  function submitInPlace(form) {
    const reply = form.hasAttribute("data-reply");
    const box = reply ? form.querySelector("textarea") : null;
    const buttons = [...form.querySelectorAll("button, select")];
    buttons.forEach((b) => { b.disabled = true; });
    return fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: {"Accept": "application/json", "X-CSRFToken": csrfToken},
    }).then((r) => {
      const json = (r.headers.get("Content-Type") || "").includes("application/json");
      return json ? r.json() : {ok: false, message: "That did not work (" + r.status + "). Reload the page and try again."};
    }).then((json) => {
      buttons.forEach((b) => { b.disabled = false; });
      if (json.thread !== undefined) applyConversation(json);
      if (json.ok && box) {
        box.value = "";
        drafts.clear(box);
        box.dispatchEvent(new Event("input"));
        form.dispatchEvent(new Event("smsdesk:sent"));  // attach.js forgets the picture
      }
      if (box) box.focus();
      const list = document.getElementById("conversation-list");
      return (list ? refreshList(list) : Promise.resolve()).then(() => notice(json.message, json.ok ? "ok" : "error"));
    }).catch(() => {
      buttons.forEach((b) => { b.disabled = false; });
      notice("No connection: nothing was sent. Try again in a moment.", "error");
    });
  }

  function applyConversation(json) {
    const thread = document.getElementById("thread");
    if (thread) { thread.dataset.since = json.next_since; renderThread(thread, json.thread); }
    replaceKeepingFocus(document.getElementById("conversation-actions"), json.actions);
    replaceKeepingFocus(document.getElementById("assign-card"), json.assign);
  }

  const FOCUSABLE = "a[href], button, select, textarea, input:not([type=hidden])";

  /* New HTML for a container; a control focused in it hands focus to its successor (Close -> Reopen). */
  function replaceKeepingFocus(el, html) {
    if (!el || html === undefined) return;
    const controls = () => [...el.querySelectorAll(FOCUSABLE)];
    const index = controls().indexOf(document.activeElement);
    el.innerHTML = html;
    if (index < 0) return;
    const next = controls()[Math.min(index, controls().length - 1)];
    (next || document.getElementById("reply-body") || document.body).focus({preventScroll: true});
  }

  /* A short message for the agent (a flash) that screen readers hear too. */
  function notice(message, category) {
    if (!message) return;
    let holder = document.querySelector(".flashes");
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "flashes";
      document.body.append(holder);
    }
    const flash = document.createElement("div");
    flash.className = "flash " + category;
    flash.setAttribute("role", category === "error" ? "alert" : "status");
    flash.textContent = message;
    holder.append(flash);
    fade(flash, category === "error" ? 8000 : 4000);
  }

  /* A flash goes by itself after a while, or at once when tapped: at phone width it lies over
     the thread's header. A page's own error flashes stay until tapped. */
  function fade(flash, after) {
    flash.title = "Dismiss";
    flash.addEventListener("click", () => flash.remove());
    if (after) setTimeout(() => flash.remove(), after);
  }

  /* A draft is kept per conversation for this tab's session, and dropped once it is sent. */
  const drafts = {
    restore(box) {
      const saved = sessionStorage.getItem(box.dataset.draftKey);
      if (saved && !box.value) box.value = saved;
      box.addEventListener("input", () => drafts.save(box));
    },
    save(box) {
      if (box.value) sessionStorage.setItem(box.dataset.draftKey, box.value);
      else sessionStorage.removeItem(box.dataset.draftKey);
    },
    clear(box) { sessionStorage.removeItem(box.dataset.draftKey); },
  };

  /* Desktop notifications and a sound for new inbound texts: both off until the agent turns them
     on (the browser asks for permission on that click, never on load). */
  const signals = {
    seen: new Map(), // conversation id -> the inbound text already signalled
    audio: null,
    notifying() { return localStorage.getItem("smsdesk:notify") === "on" && window.Notification?.permission === "granted"; },
    sounding() { return localStorage.getItem("smsdesk:sound") === "on"; },
    wanted() { return signals.notifying() || signals.sounding(); },
    setup() {
      const notify = document.querySelector("[data-notify-toggle]");
      const sound = document.querySelector("[data-sound-toggle]");
      if (notify && "Notification" in window) {
        notify.hidden = false;
        notify.addEventListener("click", () => {
          if (signals.notifying()) localStorage.setItem("smsdesk:notify", "off");
          else Notification.requestPermission().then((answer) => {
            localStorage.setItem("smsdesk:notify", answer === "granted" ? "on" : "off");
            if (answer !== "granted") notice("The browser blocks notifications for this site.", "error");
            signals.label(notify, sound);
          });
          signals.label(notify, sound);
        });
      }
      sound?.addEventListener("click", () => {
        localStorage.setItem("smsdesk:sound", signals.sounding() ? "off" : "on");
        if (signals.sounding()) signals.beep();
        signals.label(notify, sound);
      });
      signals.label(notify, sound);
    },
    label(notify, sound) {
      if (notify) { notify.textContent = signals.notifying() ? "Notifications on" : "Notify me"; notify.setAttribute("aria-pressed", String(signals.notifying())); }
      if (sound) sound.setAttribute("aria-pressed", String(signals.sounding()));
    },
    /* A row from a list poll: signal a customer's text that came after the previous poll. */
    inbound(row, since) {
      if (!row.inbound || signals.seen.get(row.id) === row.inbound || new Date(row.inbound) <= new Date(since)) return;
      signals.seen.set(row.id, row.inbound);
      const current = document.querySelector(".conversation.current")?.dataset.conversationId === String(row.id);
      if (current && !document.hidden) return; // the agent is looking at it
      document.body.dataset.lastSignal = row.id; // for the browser test: a signal was given
      if (signals.sounding()) signals.beep();
      if (signals.notifying()) {
        const note = new Notification("New text from " + row.name, {tag: "smsdesk-" + row.id});
        note.onclick = () => { window.focus(); location.href = "/inbox/" + row.id; };
      }
    },
    beep() {
      try {
        signals.audio = signals.audio || new AudioContext();
        const osc = signals.audio.createOscillator(), gain = signals.audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.08, signals.audio.currentTime);
        gain.gain.exponentialRampToValueAtTime(0.0001, signals.audio.currentTime + 0.25);
        osc.connect(gain).connect(signals.audio.destination);
        osc.start();
        osc.stop(signals.audio.currentTime + 0.25);
      } catch (e) { /* no audio device: the notification still shows */ }
    },
  };

  /* Keyboard shortcuts, listed on the "?" sheet. Typing in a field is never a shortcut; Escape
     leaves the field so the next key is one. */
  const SHORTCUTS = {
    j: () => moveInList(1), k: () => moveInList(-1),
    e: () => submitShortcut("close"), c: () => submitShortcut("close"),
    a: () => submitShortcut("assign-me"),
    "/": () => document.getElementById("inbox-search")?.focus(),
    r: () => document.getElementById("reply-body")?.focus(),
    "?": () => openHelp(),
  };

  function onShortcut(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const typing = e.target.closest?.("input, textarea, select, [contenteditable]");
    if (typing) {
      if (e.key === "Escape" && !e.target.closest("dialog")) e.target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return; // the sheet handles its own keys
    if (e.key === "Escape" && document.querySelector("main.show-details")) return toggleDetails();
    const action = SHORTCUTS[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  }

  function moveInList(step) {
    const rows = [...document.querySelectorAll("#conversation-list .conversation")];
    if (!rows.length) return;
    const at = rows.findIndex((row) => row.classList.contains("current") || row === document.activeElement);
    const next = at < 0 ? rows[step > 0 ? 0 : rows.length - 1] : rows[at + step];
    if (next) location.href = next.href;
  }

  function submitShortcut(name) {
    const form = document.querySelector(`form[data-shortcut="${name}"]`);
    if (form) form.requestSubmit();
  }

  function openHelp() {
    const sheet = document.getElementById("shortcuts");
    if (!sheet || sheet.open) return;
    const opener = document.activeElement;
    sheet.addEventListener("close", () => { if (opener?.isConnected) opener.focus(); }, {once: true});
    sheet.showModal();
  }

  /* Below 1000 px the customer and orders are a panel over the thread (Details / Hide details / Escape). */
  function toggleDetails() {
    const open = document.querySelector("main").classList.toggle("show-details");
    document.querySelectorAll(".details-toggle").forEach((b) => b.setAttribute("aria-expanded", String(open)));
    document.querySelector(open ? ".details-close" : ".thread-head .details-toggle")?.focus();
  }

  function setupInbox() {
    document.addEventListener("submit", (e) => {
      if (!e.target.matches("form[data-ajax]")) return;
      e.preventDefault();
      submitInPlace(e.target);
    });
    if (document.getElementById("conversation-list")) document.addEventListener("keydown", onShortcut);
    document.querySelector("[data-help-open]")?.addEventListener("click", openHelp);
    document.querySelectorAll(".details-toggle").forEach((button) => button.addEventListener("click", toggleDetails));
    document.querySelectorAll("textarea[data-draft-key]").forEach(drafts.restore);
    const waiting = document.querySelector("[data-waiting]");
    if (waiting) {
      signals.setup();
      setInterval(() => showWaited(document), 30000);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    localizeTimes(document);
    // Bar heights come as data (the CSP allows no inline style attributes); CSSOM is allowed.
    document.querySelectorAll("[data-height]").forEach((el) => { el.style.height = el.dataset.height + "%"; });
    document.querySelectorAll(".flashes .flash").forEach((el) => fade(el, el.classList.contains("error") ? 0 : 6000));
    document.querySelectorAll("[data-poll-url]").forEach(startPolling);
    document.querySelectorAll("[data-changes-url]").forEach(startListUpdates);
    document.addEventListener("click", (e) => {
      const older = e.target.closest(".load-older");
      if (older) loadMore(older, "older-page");
    });
    setupInbox();
    document.querySelectorAll("textarea[data-segments-url]").forEach(setupCounter);
    document.querySelectorAll("textarea[data-preview-url]").forEach(setupPreview);
    document.addEventListener("change", (e) => { // also for controls put in place later
      if (e.target.matches("[data-autosubmit]")) e.target.form.requestSubmit();
    });
    document.querySelectorAll("select[data-canned-into]").forEach(setupCanned);
  });
})();
