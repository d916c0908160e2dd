// The page's save indicator and connection watch (an anywidget module; see widgets/status.py).
// The kernel reports the save state; this script checks that the kernel is still answering,
// keeps the labels (never the text) of fields changed since the last confirmed save, and warns
// before a tab with unsaved changes closes.

const PING_MS = 1000; // how often to ask the kernel whether it is there
const LOST_MS = 3500; // no answer for this long: the connection is lost (alert within 5 s)
const FIRST_MS = 20000; // a page still starting up may take longer to answer the first time
const SEND_MS = 1000; // an edit reaches the kernel within this long of the keystroke
const COOKIE = "ew_user";

function fieldLabel(el) {
  const widget = el.closest(".widget-inline-hbox, .widget-checkbox, .jupyter-widgets");
  let text = "";
  if (el.labels && el.labels.length) text = el.labels[0].textContent;
  if (!text && widget) {
    const label = widget.querySelector("label");
    if (label) text = label.textContent;
  }
  if (!text) text = el.getAttribute("aria-label") || el.getAttribute("title") || "";
  return text.replace(/\s+/g, " ").trim();
}

function tracked(el) {
  if (!(el instanceof HTMLElement)) return false;
  if (!el.matches("input, textarea, select")) return false;
  if (!el.closest(".ew-phase")) return false; // only pages that save as you type
  // comments and the risk register's forms are saved with a button, not as you type
  return !el.closest(".ew-threads, .ew-name-prompt, .ew-risks");
}

function storageKey(model) {
  return "ew-unsaved:" + (model.get("page_key") || location.pathname);
}

function readStored(key) {
  try {
    const list = JSON.parse(sessionStorage.getItem(key) || "[]");
    return Array.isArray(list) ? list.filter((x) => typeof x === "string") : [];
  } catch (e) {
    return [];
  }
}

function writeStored(key, labels) {
  try {
    if (labels.length) sessionStorage.setItem(key, JSON.stringify(labels));
    else sessionStorage.removeItem(key);
  } catch (e) {
    /* storage full or disabled: the on-screen alert still names the fields */
  }
}

// ipywidgets boxes take no ARIA attributes: a box with this class becomes a group labelled
// by the heading (or the field label, .ew-group-label) with an id just before it (the "whose
// views" checkboxes of each question, a risk's affected groups).
function labelGroups() {
  for (const box of document.querySelectorAll(".ew-labelled-group:not([role])")) {
    const heading =
      box.parentElement &&
      box.parentElement.querySelector("h2[id], h3[id], h4[id], .ew-group-label[id]");
    if (!heading) continue;
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", heading.id);
  }
}

// ipywidgets draws RadioButtons as labels with unnamed radios after their text: name them
// (so arrow keys move between the levels, one tab stop per group) and make the box a
// radiogroup labelled by the control's own label (the maturity page's level statements).
let radioGroups = 0;
function groupRadios() {
  for (const box of document.querySelectorAll(".ew-levels .widget-radio-box:not([role])")) {
    const label = box.parentElement && box.parentElement.querySelector(":scope > .widget-label");
    radioGroups += 1;
    const id = `ew-radio-label-${radioGroups}`;
    if (label) {
      label.id = id;
      box.setAttribute("aria-labelledby", id);
    }
    box.setAttribute("role", "radiogroup");
    for (const input of box.querySelectorAll('input[type="radio"]')) {
      input.name = `ew-radio-${radioGroups}`;
    }
  }
}

// A form opened with a button is drawn after the kernel's request to focus its first field
// has come and gone (ipywidgets sends it to views that exist): a field marked .ew-autofocus
// takes focus once, when it appears (the transparency page's field forms).
// The box can be in the page before its field is drawn and laid out (a busy machine), and
// showing it is not a change the observer sees: so try again for a moment until it is.
function focusNew() {
  for (const box of document.querySelectorAll(".ew-autofocus:not([data-ew-focused])")) {
    box.setAttribute("data-ew-focused", "");
    // On a busy machine the field can be drawn seconds later: keep trying for up to 10 s,
    // unless the person has moved on to something else in the meantime.
    const from = document.activeElement;
    let tries = 0;
    const attempt = () => {
      const now = document.activeElement;
      if (now !== from && now !== document.body && now !== null) return;
      const field = box.matches("input, textarea, select")
        ? box
        : box.querySelector("input, textarea, select");
      if (field && field.getClientRects().length) {
        field.focus();
        return;
      }
      if (box.isConnected && ++tries < 330) setTimeout(attempt, 30);
    };
    attempt();
  }
}

// A link to a part of a page (02-develop's "See them in the risk register" goes to
// 01-explore.ipynb?project=...#risk-register): the browser looked for the id before the
// widgets were drawn, so go there once the page has been drawn (its footer is there).
let hashDone = false;
function goToHash() {
  if (hashDone) return;
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id || id === "change-name") {
    hashDone = true;
    return;
  }
  const target = document.getElementById(id);
  if (!target || !document.querySelector(".ew-footer")) return;
  hashDone = true;
  target.scrollIntoView({ block: "start" });
  if (target.tabIndex >= -1 && target.hasAttribute("tabindex")) target.focus({ preventScroll: true });
}

// Old links put the user's name in the address. It is ignored; take it out of the address
// bar too, so that copying the address does not pass it on.
function dropNameFromAddress() {
  const url = new URL(location.href);
  if (!url.searchParams.has("user")) return;
  url.searchParams.delete("user");
  history.replaceState(history.state, "", url);
}

// "Not Sam? Change the name" links to #change-name: forget this browser session's name
// (a shared PC) and load the page again, which then asks for a name.
function changeNameIfAsked() {
  if (location.hash !== "#change-name") return false;
  document.cookie = `${COOKIE}=; path=/; max-age=0; SameSite=Strict`;
  const url = new URL(location.href);
  url.hash = "";
  location.replace(url.toString());
  return true;
}

function render({ model, el }) {
  dropNameFromAddress();
  changeNameIfAsked();
  const onHash = () => changeNameIfAsked();
  window.addEventListener("hashchange", onHash);
  el.classList.add("ew-save-widget");
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const alert = document.createElement("div");
  alert.className = "ew-connection-alert";
  alert.id = "ew-connection-alert";
  alert.setAttribute("role", "alert");
  const earlier = document.createElement("div");
  earlier.className = "ew-earlier-unsaved";
  el.append(status);
  // The notices go just below the status bar, not inside it: the bar stays on screen as
  // the page scrolls (on a phone a long notice there would cover the page).
  const notices = document.createElement("div");
  notices.className = "ew-notices";
  notices.append(alert, earlier);
  let placing = 0;
  function place() {
    const bar = el.closest(".ew-status-bar") || el;
    if (bar.isConnected && bar.parentNode) {
      bar.parentNode.insertBefore(notices, bar.nextSibling);
    } else {
      placing = requestAnimationFrame(place);
    }
  }
  place();

  const dirty = new Map(); // field label -> time of the last edit not yet confirmed saved
  const sent = new Map(); // ping number -> time it was sent
  const started = Date.now();
  let seq = 0;
  let lastAnswer = 0; // time of the last pong
  let lost = false;

  const key = storageKey(model);
  const previous = readStored(key);

  function list(labels) {
    const ul = document.createElement("ul");
    for (const label of labels) {
      const li = document.createElement("li");
      li.textContent = label;
      ul.append(li);
    }
    return ul;
  }

  function showEarlier() {
    earlier.replaceChildren();
    if (!previous.length) return;
    const box = document.createElement("div");
    box.className = "ew-message ew-warning";
    box.setAttribute("role", "alert");
    const p = document.createElement("p");
    p.textContent =
      "Your last visit to this page ended before these changes were confirmed as saved. " +
      "Check them and type them again if they are missing:";
    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = "ew-dismiss";
    ok.textContent = "I have checked them";
    ok.addEventListener("click", () => {
      previous.length = 0;
      store();
      earlier.replaceChildren();
    });
    box.append(p, list(previous), ok);
    earlier.append(box);
  }

  function store() {
    writeStored(key, [...new Set([...previous, ...dirty.keys()])]);
  }

  function draw() {
    const kind = model.get("kind");
    if (lost) {
      status.className = "ew-save-error";
      status.hidden = false;
      const more = document.createElement("a");
      more.href = "#ew-connection-alert";
      more.textContent = "Not saved: connection lost";
      status.replaceChildren(more);
      const since = model.get("saved_at");
      const fields = [...dirty.keys()];
      alert.replaceChildren();
      const h = document.createElement("p");
      h.className = "ew-alert-title";
      h.textContent = "The connection to the workbook has been lost.";
      const p = document.createElement("p");
      p.textContent =
        (since ? `Changes since ${since} are not saved. ` : "Changes you make now are not saved. ") +
        "Keep this page open: if the connection comes back they will be saved. " +
        "If this message stays, copy what you typed somewhere safe, then reload the page and " +
        "check those answers.";
      alert.append(h, p);
      if (fields.length) {
        const q = document.createElement("p");
        q.textContent = "Changed since the last confirmed save:";
        alert.append(q, list(fields));
      }
      alert.hidden = false;
      el.classList.add("ew-lost");
      return;
    }
    el.classList.remove("ew-lost");
    alert.replaceChildren();
    alert.hidden = true;
    status.className = "ew-save-" + kind;
    status.textContent = kind === "idle" ? "" : model.get("text");
    status.hidden = kind === "idle";
  }

  function confirmSaved(pingTime) {
    let changed = false;
    const notYet = new Set(model.get("unsaved_labels") || []);
    for (const [label, t] of dirty) {
      if (t + SEND_MS <= pingTime && !notYet.has(label)) {
        dirty.delete(label);
        changed = true;
      }
    }
    if (changed) store();
  }

  // "input" fires for every change a person makes (text, selects, checkboxes, dates);
  // "change" also fires when a text field merely loses focus, so it is not used.
  function onEdit(event) {
    if (!tracked(event.target) || model.get("kind") === "idle") return;
    const label = fieldLabel(event.target);
    if (!label) return;
    dirty.delete(label); // keep the most recent last
    dirty.set(label, Date.now());
    store();
    if (lost) draw();
  }

  function onMessage(msg) {
    if (!msg || msg.type !== "pong") return;
    lastAnswer = Date.now();
    const pingTime = sent.get(msg.seq);
    sent.delete(msg.seq);
    if ((msg.kind === "saved" || msg.kind === "incomplete") && pingTime !== undefined) {
      confirmSaved(pingTime);
    }
    if (lost) {
      lost = false;
      draw();
    }
  }

  function tick() {
    const now = Date.now();
    const quiet = lastAnswer ? now - lastAnswer : now - started;
    if (!lost && quiet > (lastAnswer ? LOST_MS : FIRST_MS)) {
      lost = true;
      draw();
    }
    seq += 1;
    sent.set(seq, now);
    for (const n of sent.keys()) if (n < seq - 30) sent.delete(n);
    try {
      model.send({ type: "ping", seq });
    } catch (e) {
      /* the comm is closed: the next tick reports the loss */
    }
  }

  function flush() {
    try {
      model.send({ type: "flush" });
    } catch (e) {
      /* the connection is gone: the alert already says so */
    }
  }

  // In Voilà, the page template holds back Voilà's own "beforeunload" listener (it shuts
  // the kernel down) until "pagehide", and calls window.ewBeforeShutdown first.
  function beforeUnload(event) {
    const kind = model.get("kind");
    const unsafe = ["pending", "saving", "incomplete", "conflict", "error"].includes(kind);
    if (!dirty.size && !unsafe) return;
    flush(); // save now what the kernel has, whatever the person answers
    store();
    event.preventDefault();
    event.returnValue = "";
  }

  function pageHide() {
    flush();
  }

  function writeCookie() {
    const name = model.get("user_cookie");
    if (name) {
      document.cookie = `${COOKIE}=${encodeURIComponent(name)}; path=/; SameSite=Strict`;
    }
  }

  model.on("change:kind", draw);
  model.on("change:text", draw);
  model.on("change:user_cookie", writeCookie);
  model.on("msg:custom", onMessage);
  document.addEventListener("input", onEdit, true);
  const listen = window.ewAddEventListener || window.addEventListener.bind(window);
  listen("beforeunload", beforeUnload);
  if (window.ewAddEventListener) window.ewBeforeShutdown = pageHide;
  else window.addEventListener("pagehide", pageHide);
  const timer = setInterval(tick, PING_MS);
  let labelling = 0;
  const observer = new MutationObserver(() => {
    clearTimeout(labelling);
    labelling = setTimeout(() => {
      labelGroups();
      groupRadios();
      focusNew();
      goToHash();
    }, 50);
  });
  observer.observe(document.body, { childList: true, subtree: true });
  labelGroups();
  groupRadios();
  writeCookie();
  showEarlier();
  draw();
  tick();

  return () => {
    clearInterval(timer);
    window.removeEventListener("hashchange", onHash);
    cancelAnimationFrame(placing);
    notices.remove();
    observer.disconnect();
    document.removeEventListener("input", onEdit, true);
    window.removeEventListener("beforeunload", beforeUnload);
    window.removeEventListener("pagehide", pageHide);
    if (window.ewBeforeShutdown === pageHide) window.ewBeforeShutdown = null;
  };
}

export default { render };
