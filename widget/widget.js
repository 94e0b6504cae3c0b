/*
 * Clonus assistant chat widget. One tag on any page:
 *
 *   <script src="https://ASSISTANT-HOST/webhooks/widget/static/widget.js"
 *           data-title="Riverside Neurology Clinic" defer></script>
 *
 * Optional settings, as data-* attributes on that tag or as a `window.ClonusWidgetConfig`
 * object defined (in an external script) before it:
 *   server          base URL of the assistant (default: where widget.js came from)
 *   endpoint        message URL (default: server + "/webhooks/widget/webhook")
 *   conversationEndpoint  where a new conversation id is asked for (default: server +
 *                   "/webhooks/widget/conversation"; the server mints and signs it)
 *   title, subtitle header text
 *   emergencyNumber number shown when the assistant cannot be reached (default "911")
 *   clinicPhone     the clinic's number, shown with it (default: none)
 *   timeoutMs       how long to wait for a reply before showing a notice (default 30000)
 *   initPayload     sent, not shown, when a visitor first opens the chat (default "/greet")
 *   storage         "session" (default: the conversation lasts as long as the tab) or "local"
 *   open            "true" to start open
 *
 * No dependencies, no inline script or style: it runs under a strict Content-Security-Policy.
 * Every text from the assistant or the visitor is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  if (window.ClonusWidget && window.ClonusWidget.loaded) return;

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var userConfig = window.ClonusWidgetConfig || {};

  function setting(name, fallback) {
    if (userConfig[name] !== undefined && userConfig[name] !== null) return String(userConfig[name]);
    if (data[name] !== undefined) return String(data[name]);
    return fallback;
  }

  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var server = setting("server", scriptOrigin).replace(/\/+$/, "");
  var config = {
    server: server,
    endpoint: setting("endpoint", server + "/webhooks/widget/webhook"),
    conversationEndpoint: setting("conversationEndpoint", server + "/webhooks/widget/conversation"),
    stylesheet: setting("stylesheet", server + "/webhooks/widget/static/widget.css"),
    title: setting("title", "Clinic assistant"),
    subtitle: setting("subtitle", "Automated assistant, not a doctor"),
    emergencyNumber: setting("emergencyNumber", "911"),
    clinicPhone: setting("clinicPhone", ""),
    initPayload: setting("initPayload", "/greet"),
    storage: setting("storage", "session"),
    open: setting("open", "false") === "true",
    timeoutMs: Math.max(1000, parseInt(setting("timeoutMs", "30000"), 10) || 30000),
  };

  // ---- storage: the conversation id and the transcript survive a reload ---------------------------
  var STORE_KEY = "clonus-widget:" + config.endpoint;
  var memoryStore = {};
  function store() {
    try {
      var s = config.storage === "local" ? window.localStorage : window.sessionStorage;
      var probe = STORE_KEY + ":probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return {
        getItem: function (k) { return memoryStore[k] === undefined ? null : memoryStore[k]; },
        setItem: function (k, v) { memoryStore[k] = String(v); },
        removeItem: function (k) { delete memoryStore[k]; },
      };
    }
  }
  var storage = store();

  // The conversation id is minted and signed by the server (no client chooses whose conversation
  // it is); null until the first message asks for one.
  function loadState() {
    try {
      var saved = JSON.parse(storage.getItem(STORE_KEY) || "null");
      if (saved && Array.isArray(saved.messages) && (saved.conversation === null || typeof saved.conversation === "string")) {
        return saved;
      }
    } catch (e) { /* a damaged entry starts a new conversation */ }
    return { conversation: null, messages: [], open: false, started: false };
  }
  var state = loadState();
  function saveState() {
    try { storage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full: keep going */ }
  }

  // ---- small DOM helpers -------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A speech-bubble icon drawn in SVG: no icon font or emoji font needed.
  function bubbleIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "cw-launcher-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function telHref(number) {
    return "tel:" + String(number).replace(/[^0-9+*#]/g, "");
  }

  function safeHref(url) {
    var m = /^(https?:\/\/|mailto:|tel:)/i.exec(url);
    if (!m) return null;
    if (/^tel:/i.test(url)) return telHref(url.slice(4));
    try {
      var parsed = new URL(url);
      return ["http:", "https:", "mailto:"].indexOf(parsed.protocol) >= 0 ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // Markdown links [label](url), bare http(s) URLs and **bold**; everything else is plain text.
  var TOKEN = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>"')\]]+)|\*\*([^*\n]{1,500})\*\*/g;
  function renderText(container, text) {
    var last = 0;
    var match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      if (match.index > last) container.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[4] !== undefined) {
        container.appendChild(el("strong", null, match[4]));
      } else {
        var label = match[1] !== undefined ? match[1] : match[3];
        var href = safeHref(match[2] !== undefined ? match[2] : match[3]);
        if (href) {
          var a = el("a", "cw-link", label);
          a.href = href;
          if (/^https?:/i.test(href)) {
            a.target = "_blank";
            a.rel = "noopener noreferrer";
          }
          container.appendChild(a);
        } else {
          container.appendChild(document.createTextNode(match[0]));
        }
      }
      last = TOKEN.lastIndex;
    }
    if (last < text.length) container.appendChild(document.createTextNode(text.slice(last)));
  }

  function clockTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) d = new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // ---- the widget --------------------------------------------------------------------------------
  var host = el("div");
  host.id = "clonus-widget";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var sheet = el("link");
  sheet.rel = "stylesheet";
  sheet.href = config.stylesheet;
  root.appendChild(sheet);

  var launcher = el("button", "cw-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "cw-panel");
  launcher.appendChild(bubbleIcon());
  launcher.appendChild(el("span", "cw-launcher-label", "Chat with us"));

  var panel = el("section", "cw-panel");
  panel.id = "cw-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "cw-title");
  panel.setAttribute("aria-describedby", "cw-subtitle");
  panel.hidden = true;

  var header = el("header", "cw-header");
  var headings = el("div", "cw-headings");
  var title = el("h2", "cw-title", config.title);
  title.id = "cw-title";
  var subtitle = el("p", "cw-subtitle", config.subtitle);
  subtitle.id = "cw-subtitle";
  headings.appendChild(title);
  headings.appendChild(subtitle);
  var closeButton = el("button", "cw-close");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat");
  closeButton.appendChild(el("span", null, "\u00D7")).setAttribute("aria-hidden", "true");
  header.appendChild(headings);
  header.appendChild(closeButton);

  var log = el("div", "cw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0; // scrollable region: reachable and scrollable with the keyboard

  var typing = el("div", "cw-typing");
  typing.setAttribute("role", "status");
  typing.hidden = true;
  var dots = el("span", "cw-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  typing.appendChild(dots);
  typing.appendChild(el("span", "cw-typing-text", "The assistant is typing\u2026"));

  var alertRegion = el("div", "cw-sr-only");
  alertRegion.setAttribute("role", "alert");

  var form = el("form", "cw-form");
  form.noValidate = true;
  var inputLabel = el("label", "cw-sr-only", "Type your message");
  inputLabel.htmlFor = "cw-input";
  var input = el("textarea", "cw-input");
  input.id = "cw-input";
  input.rows = 1;
  input.maxLength = 2000;
  input.placeholder = "Type your message\u2026";
  input.setAttribute("autocomplete", "off");
  input.setAttribute("enterkeyhint", "send");
  var sendButton = el("button", "cw-send", "Send");
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(alertRegion);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  // ---- messages ----------------------------------------------------------------------------------
  function renderMessage(msg, index) {
    var item = el("div", "cw-msg cw-" + msg.from);
    item.dataset.index = String(index);
    if (msg.emergency) item.classList.add("cw-emergency");
    var who = msg.from === "user" ? "You" : msg.from === "bot" ? "Assistant" : "Notice";
    item.appendChild(el("span", "cw-sr-only", who + ": "));
    if (msg.emergency) {
      var label = el("strong", "cw-emergency-label");
      label.appendChild(el("span", "cw-emergency-icon", "\u26A0")).setAttribute("aria-hidden", "true");
      label.appendChild(document.createTextNode(" Emergency"));
      item.appendChild(label);
    }
    var body = el("p", "cw-text");
    if (msg.from === "user") body.textContent = msg.text;
    else renderText(body, msg.text || "");
    item.appendChild(body);
    if (msg.emergency && msg.call) {
      var call = el("a", "cw-call", "Call " + msg.call + " now");
      call.href = telHref(msg.call);
      item.appendChild(call);
    }
    if (msg.image && safeHref(msg.image) && /^https?:/i.test(msg.image)) {
      var link = el("a", "cw-link", "Open image");
      link.href = safeHref(msg.image);
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      item.appendChild(link);
    }
    var time = el("time", "cw-time", clockTime(msg.ts));
    time.dateTime = msg.ts;
    item.appendChild(time);
    if (msg.buttons && msg.buttons.length && !msg.answered) {
      var group = el("div", "cw-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      msg.buttons.forEach(function (b) {
        var button = el("button", "cw-reply", b.title);
        button.type = "button";
        button.addEventListener("click", function () {
          send(b.payload, b.title);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    return item;
  }

  function rerender() {
    while (log.firstChild) log.removeChild(log.firstChild);
    state.messages.forEach(function (m, i) { log.appendChild(renderMessage(m, i)); });
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(msg) {
    msg.ts = msg.ts || new Date().toISOString();
    state.messages.push(msg);
    if (state.messages.length > 300) state.messages.splice(0, state.messages.length - 300);
    saveState();
    log.appendChild(renderMessage(msg, state.messages.length - 1));
    scrollDown();
    if (msg.emergency) announce("Emergency: " + msg.text + (msg.call ? " Call " + msg.call + " now." : ""));
  }

  function announce(text) {
    alertRegion.textContent = "";
    // A new text node in an emptied alert region is announced even when the text repeats.
    window.setTimeout(function () { alertRegion.textContent = text; }, 50);
  }

  function retireButtons() {
    var changed = false;
    state.messages.forEach(function (m) {
      if (m.buttons && m.buttons.length && !m.answered) { m.answered = true; changed = true; }
    });
    if (changed) {
      saveState();
      var groups = log.querySelectorAll(".cw-buttons");
      Array.prototype.forEach.call(groups, function (g) { g.parentNode.removeChild(g); });
    }
  }

  function squash(s) { return String(s || "").replace(/\s+/g, " ").trim().toLowerCase(); }

  // One message from the server -> zero or one transcript entries.
  function fromServer(m) {
    if (!m || typeof m !== "object") return null;
    var custom = m.custom && typeof m.custom === "object" ? m.custom : {};
    var text = typeof m.text === "string" ? m.text : "";
    var emergency = custom.emergency === true;
    // Only a plausible dialable number is offered; anything else falls back to the configured one.
    var call = null;
    if (emergency) {
      var offered = String(custom.call || custom.emergency_number || "");
      call = /^\+?[0-9][0-9 ().*#-]{0,19}$/.test(offered) ? offered : config.emergencyNumber;
    }
    if (emergency && typeof custom.text === "string" && squash(custom.text) !== squash(text)) {
      // Rasa's own REST channel sends the text and the JSON of one response separately:
      // the JSON then upgrades the message that carried the same text.
      var previous = state.messages[state.messages.length - 1];
      if (!text && previous && previous.from === "bot" && squash(previous.text) === squash(custom.text)) {
        previous.emergency = true;
        previous.call = call;
        saveState();
        rerender();
        announce("Emergency: " + previous.text + (call ? " Call " + call + " now." : ""));
        return null;
      }
      text = text ? text + "\n\n" + custom.text : custom.text;
    }
    if (!text && typeof custom.text === "string") text = custom.text;
    var buttons = Array.isArray(m.buttons) ? m.buttons : Array.isArray(m.quick_replies) ? m.quick_replies : [];
    buttons = buttons
      .filter(function (b) { return b && (b.title || b.payload); })
      .map(function (b) { return { title: String(b.title || b.payload), payload: String(b.payload || b.title) }; });
    var image = typeof m.image === "string" ? m.image : null;
    if (!text && !buttons.length && !image && !emergency) return null;
    return { from: "bot", text: text, buttons: buttons, emergency: emergency, call: call, image: image };
  }

  // ---- sending: one request at a time, so replies stay in order -----------------------------------
  var queue = Promise.resolve();
  var pending = 0;

  function setTyping(on) {
    typing.hidden = !on;
    if (on) scrollDown();
  }

  // Every failure ends in a notice with the number to call: the server's own (413, 429, 503 carry
  // {"error", "messages"}), or the widget's when the server errs otherwise, times out, cannot be
  // reached or answers nothing.
  function ownNotice(reason) {
    var text = reason + " In an emergency call " + config.emergencyNumber + " now.";
    if (config.clinicPhone) text += " The clinic's number is " + config.clinicPhone + ".";
    return { from: "notice", text: text, emergency: false };
  }
  var NOT_DELIVERED = "Sorry, your message could not be delivered. Please try again.";
  var NO_ANSWER = "Sorry, the assistant did not answer. Please try again.";
  var TIMED_OUT = "Sorry, the assistant is taking too long to answer. Please try again in a moment.";

  function Failure(kind, status, messages) {
    this.kind = kind;
    this.status = status;
    this.messages = messages || [];
  }

  function request(url, payload) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, config.timeoutMs) : null;
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    }).then(function (res) {
      return res.text().then(function (body) {
        if (timer) window.clearTimeout(timer);
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var messages = data && Array.isArray(data.messages) ? data.messages : [];
          throw new Failure("status", res.status, messages);
        }
        return data;
      });
    }, function (err) {
      if (timer) window.clearTimeout(timer);
      throw new Failure(err && err.name === "AbortError" ? "timeout" : "network", 0, []);
    });
  }

  function conversation() {
    if (state.conversation) return Promise.resolve(state.conversation);
    return request(config.conversationEndpoint, {}).then(function (data) {
      if (!data || typeof data.conversation !== "string") throw new Failure("empty", 200, []);
      state.conversation = data.conversation;
      saveState();
      return state.conversation;
    });
  }

  // A random id for each message (a UUID, version 4), sent with it and again, unchanged, with
  // every retry or resend of that message: the server processes one message id at most once and
  // answers a repeat with the reply it stored for the first (a load balancer may replay a request
  // whose server died after storing the turn but before answering).
  function messageId() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function post(message, id, retried) {
    return conversation().then(function (conversationId) {
      return request(config.endpoint, { conversation: conversationId, message: message, message_id: id });
    }).catch(function (failure) {
      // An id the server no longer accepts (expired, or signed with an old secret): a new one.
      if (failure instanceof Failure && failure.status === 401 && !retried) {
        state.conversation = null;
        saveState();
        return post(message, id, true);
      }
      throw failure;
    });
  }

  function showFailure(failure) {
    var shown = 0;
    if (failure instanceof Failure && failure.kind === "status") {
      failure.messages.forEach(function (r) {
        var msg = fromServer(r);
        if (!msg) return;
        if (!msg.emergency) msg.from = "notice";
        addMessage(msg);
        shown += 1;
      });
    }
    if (!shown) {
      var timedOut = failure instanceof Failure && failure.kind === "timeout";
      addMessage(ownNotice(timedOut ? TIMED_OUT : NOT_DELIVERED));
    }
  }

  function send(message, shown) {
    if (!message || !String(message).trim()) return;
    retireButtons();
    if (shown !== null) addMessage({ from: "user", text: shown === undefined ? message : shown });
    var id = messageId();
    pending += 1;
    setTyping(true);
    queue = queue.then(function () {
      return post(message, id).then(function (replies) {
        var added = 0;
        (Array.isArray(replies) ? replies : []).forEach(function (r) {
          var msg = fromServer(r);
          if (msg) { addMessage(msg); added += 1; }
        });
        if (!added) addMessage(ownNotice(NO_ANSWER));
      }).catch(showFailure).then(function () {
        pending -= 1;
        if (!pending) setTyping(false);
      });
    });
  }

  // ---- open / close, keyboard --------------------------------------------------------------------
  function open(restoring) {
    panel.hidden = false;
    host.classList.add("cw-is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    scrollDown();
    if (restoring !== true) input.focus(); // a reload must not steal the page's focus
    if (!state.started) {
      state.started = true;
      saveState();
      if (config.initPayload) send(config.initPayload, null);
    }
  }

  function close() {
    panel.hidden = true;
    host.classList.remove("cw-is-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(false); else close(); });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else sendButton.click();
    }
  });

  function mount() {
    document.body.appendChild(host);
    rerender();
    if (state.open || config.open) open(true);
  }

  window.ClonusWidget = {
    loaded: true,
    open: function () { open(false); },
    close: close,
    send: function (text) { send(String(text)); },
    reset: function () {
      try { storage.removeItem(STORE_KEY); } catch (e) { /* nothing to remove */ }
      state = { conversation: null, messages: [], open: !panel.hidden, started: false };
      rerender();
    },
  };

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
