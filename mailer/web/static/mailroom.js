/* The mailroom scanning page: a piece code and Enter arm the piece, one key (or a scanned reason
   code and Enter) picks its reason, and the return is posted to the returns API at once. The
   field keeps the focus, so a barcode scanner (which types the code and Enter) is all a clerk
   needs. Every text comes from the page's data-text-* attributes, in the page's language.
   The reason card page uses only the print button. A plain script file: the content security
   policy allows no inline script. */
(function () {
  "use strict";

  // --- piece codes: the same rules as mailer/batches/piece_codes.py -------------------------

  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var PAYLOAD_LENGTH = 7;
  var CODE_LENGTH = PAYLOAD_LENGTH + 1;
  // What people and scanners type for the symbols Crockford's alphabet leaves out.
  var TYPED = { O: "0", I: "1", L: "1" };
  var SEPARATORS = /[\s\-_.]/g;

  function checkSymbol(payload) {
    var base = ALPHABET.length;
    var total = 0;
    var factor = 2;
    for (var i = payload.length - 1; i >= 0; i -= 1) {
      var addend = factor * ALPHABET.indexOf(payload.charAt(i));
      total += Math.floor(addend / base) + (addend % base);
      factor = factor === 2 ? 1 : 2;
    }
    return ALPHABET.charAt((base - (total % base)) % base);
  }

  /* Return {code} for a valid piece code (canonical, no hyphen), or {error: "length" | "symbols"
     | "check"} with the count of characters or the unknown symbols, as parse_piece_code decides. */
  function parsePieceCode(typed) {
    var symbols = Array.from(typed.replace(SEPARATORS, "").toUpperCase()).map(function (symbol) {
      return Object.prototype.hasOwnProperty.call(TYPED, symbol) ? TYPED[symbol] : symbol;
    });
    if (symbols.length !== CODE_LENGTH) {
      return { error: "length", count: symbols.length };
    }
    var unknown = symbols.filter(function (symbol, index) {
      return ALPHABET.indexOf(symbol) < 0 && symbols.indexOf(symbol) === index;
    });
    if (unknown.length) {
      // Sorted by code point, as Python's sorted() does.
      unknown.sort(function (a, b) { return a.codePointAt(0) - b.codePointAt(0); });
      return { error: "symbols", symbols: unknown.join("") };
    }
    var code = symbols.join("");
    if (checkSymbol(code.slice(0, PAYLOAD_LENGTH)) !== code.charAt(PAYLOAD_LENGTH)) {
      return { error: "check" };
    }
    return { code: code };
  }

  function displayPieceCode(code) {
    return code.slice(0, 4) + "-" + code.slice(4);
  }

  window.Mailroom = { parsePieceCode: parsePieceCode, displayPieceCode: displayPieceCode };

  Array.prototype.forEach.call(document.querySelectorAll("[data-action=print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var root = document.getElementById("scanner");
  if (!root || !window.fetch) {
    return;
  }

  // --- the page's texts and elements ---------------------------------------------------------

  var input = document.getElementById("scan-input");
  var prompt = document.getElementById("scan-prompt");
  var result = document.getElementById("scan-result");
  var recentList = document.getElementById("recent-scans");
  var noScans = root.querySelector("[data-role=no-scans]");
  var soundToggle = document.getElementById("sound-toggle");
  var apiUrl = root.getAttribute("data-api-url");
  var pageUrl = root.getAttribute("data-page-url");
  var csrfToken = root.getAttribute("data-csrf-token");
  var keyWait = parseInt(root.getAttribute("data-key-wait-ms"), 10) || 150;
  var recentMax = parseInt(root.getAttribute("data-recent-scans"), 10) || 10;
  var lang = document.documentElement.lang || undefined;
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  var time = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

  function text(name, values) {
    var template = root.getAttribute("data-text-" + name) || name;
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function stateLabel(kind, value) {
    return root.getAttribute("data-" + kind + "-" + value) || value;
  }

  function part(role) {
    return result.querySelector("[data-role=" + role + "]");
  }

  // Reasons by key and by code, from the buttons the page lists.
  var byKey = {};
  var byCode = {};
  Array.prototype.forEach.call(root.querySelectorAll(".reason-key"), function (button) {
    var reason = {
      key: button.getAttribute("data-key").toUpperCase(),
      code: button.getAttribute("data-code"),
      label: button.getAttribute("data-label"),
      button: button,
    };
    byKey[reason.key] = reason;
    byCode[reason.code.toUpperCase()] = reason;
  });

  function reasonText(code) {
    var reason = byCode[String(code).toUpperCase()];
    return reason ? reason.code + " · " + reason.label : String(code);
  }

  // --- sound: Web Audio beeps, no files --------------------------------------------------------

  var SOUND_KEY = "mailer.mailroom.sound";
  var CUES = {
    good: [[1320, 0, 0.09, "sine", 0.25]],
    warn: [[700, 0, 0.1, "triangle", 0.35], [700, 0.16, 0.1, "triangle", 0.35]],
    error: [[220, 0, 0.16, "square", 0.22], [185, 0.2, 0.16, "square", 0.22], [150, 0.4, 0.3, "square", 0.22]],
  };
  var audio = null;
  var soundOn = true;
  try {
    soundOn = window.localStorage.getItem(SOUND_KEY) !== "off";
  } catch (ignored) {
    soundOn = true;
  }

  function showSound() {
    soundToggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundToggle.textContent = text(soundOn ? "sound-on" : "sound-off");
  }

  // Browsers let a page make sound only after the user did something: start on the first key.
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!soundOn || !Context) {
      return;
    }
    try {
      if (!audio) {
        audio = new Context();
      }
      if (audio.state === "suspended") {
        audio.resume().catch(function () {});
      }
    } catch (ignored) {
      audio = null;
    }
  }

  function cue(name) {
    root.setAttribute("data-last-cue", name);
    if (!soundOn) {
      return;
    }
    wakeAudio();
    if (!audio) {
      return;
    }
    var start = audio.currentTime + 0.01;
    CUES[name].forEach(function (note) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = note[3];
      oscillator.frequency.value = note[0];
      gain.gain.setValueAtTime(note[4], start + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + note[1] + note[2]);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(start + note[1]);
      oscillator.stop(start + note[1] + note[2] + 0.02);
    });
  }

  soundToggle.addEventListener("click", function () {
    soundOn = !soundOn;
    try {
      window.localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    } catch (ignored) {
      // Private windows may refuse storage: the choice lasts until the page is reloaded.
    }
    showSound();
    input.focus();
  });
  showSound();

  // --- what the page shows ---------------------------------------------------------------------

  var tally = { recorded: 0, already: 0, errors: 0 };
  var armed = null; // the canonical code of the piece waiting for its reason
  var keyTimer = null;

  function showPrompt() {
    prompt.setAttribute("data-state", armed ? "armed" : "idle");
    prompt.textContent = armed ? text("prompt-armed", { code: displayPieceCode(armed) }) : text("prompt-idle");
    Array.prototype.forEach.call(root.querySelectorAll(".reason-key"), function (button) {
      button.classList.toggle("ready", Boolean(armed));
    });
  }

  function count(name) {
    tally[name] += 1;
    root.querySelector("[data-count=" + name + "]").textContent = String(tally[name]);
  }

  function setPart(role, value) {
    var element = part(role);
    element.textContent = value || "";
    element.hidden = !value;
  }

  /* Show one result: tone "good", "warn", "bad" or "pending"; facts is the API's answer or null. */
  function showResult(tone, headline, detail, facts, message) {
    result.setAttribute("data-tone", tone);
    setPart("headline", headline);
    part("headline").hidden = false;
    setPart("detail", detail);
    setPart("message", message);
    var list = part("facts");
    list.hidden = !facts;
    if (!facts) {
      return;
    }
    part("customer").textContent = facts.customer.name + " (" + facts.customer.customer_no + ")";
    if (facts.customer.status !== "active") {
      var status = document.createElement("span");
      status.className = "badge " + facts.customer.status;
      status.textContent = stateLabel("status", facts.customer.status);
      part("customer").appendChild(document.createTextNode(" "));
      part("customer").appendChild(status);
    }
    var address = part("address");
    address.textContent = "";
    // The lines as printed, name first: the name is shown above.
    facts.piece.lines.slice(1).forEach(function (line) {
      var row = document.createElement("div");
      row.textContent = line;
      address.appendChild(row);
    });
    part("reason").textContent = reasonText(facts.reason.code);
    var validity = part("validity");
    validity.textContent = "";
    [facts.address.previous_validity, facts.address.validity].forEach(function (value, index) {
      if (index) {
        validity.appendChild(document.createTextNode(" → "));
      }
      var badge = document.createElement("span");
      badge.className = "badge " + value;
      badge.textContent = stateLabel("validity", value);
      validity.appendChild(badge);
    });
    var risk = facts.customer.churn_risk;
    part("risk").textContent = risk === null || risk === undefined ? "—" : percent.format(risk);
  }

  function addRecent(piece, reason) {
    var item = document.createElement("li");
    item.setAttribute("data-tone", "pending");
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = time.format(new Date());
    var code = document.createElement("span");
    code.className = "piece mono";
    code.textContent = piece;
    var why = document.createElement("span");
    why.className = "reason mono";
    why.textContent = reason || "";
    var what = document.createElement("span");
    what.className = "what";
    item.appendChild(when);
    item.appendChild(code);
    item.appendChild(why);
    item.appendChild(what);
    recentList.insertBefore(item, recentList.firstChild);
    while (recentList.children.length > recentMax) {
      recentList.removeChild(recentList.lastChild);
    }
    noScans.hidden = true;
    return {
      set: function (tone, summary, reasonCode) {
        item.setAttribute("data-tone", tone);
        what.textContent = summary;
        if (reasonCode) {
          why.textContent = reasonCode;
        }
      },
    };
  }

  function error(headline, detail, entry, message) {
    count("errors");
    showResult("bad", headline, detail, null, message);
    entry.set("bad", headline);
    cue("error");
  }

  function notice(headline, detail) {
    showResult("warn", headline, detail, null, null);
    cue("warn");
  }

  // --- recording a return -------------------------------------------------------------------

  function answered(entry, status, body) {
    if (status === 200 || status === 201) {
      var facts = body;
      var name = facts.customer.name;
      if (facts.already_recorded) {
        count("already");
        showResult("warn", text("already-recorded"), null, facts, facts.message);
        entry.set("warn", text("already-recorded") + " · " + name, facts.reason.code);
        cue("warn");
      } else if (facts.corrected) {
        count("recorded");
        var corrected = text("corrected", { reason: reasonText(facts.corrected_from) });
        showResult("warn", corrected, null, facts, facts.message);
        entry.set("warn", corrected + " · " + name, facts.reason.code);
        cue("warn");
      } else {
        count("recorded");
        showResult("good", text("recorded"), null, facts, facts.message);
        entry.set("good", text("recorded") + " · " + name, facts.reason.code);
        cue("good");
      }
      return;
    }
    var said = body && typeof body.error === "string" ? body.error : null;
    if (status === 401) {
      error(text("not-recorded"), text("logged-out"), entry, said);
    } else if (status === 403) {
      error(text("not-recorded"), text("forbidden"), entry, said);
    } else if (status === 404) {
      error(text("unknown-piece"), null, entry, said);
    } else {
      error(text("not-recorded"), null, entry, said || String(status));
    }
  }

  // A page left open longer than the CSRF token lives gets a fresh token from the page itself.
  function freshToken() {
    return fetch(pageUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html").getElementById("scanner");
        if (!page) {
          throw new Error("logged out");
        }
        csrfToken = page.getAttribute("data-csrf-token");
      });
  }

  function send(code, reason, entry, retried) {
    fetch(apiUrl, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify({ piece_code: code, reason: reason.code }),
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (answer) {
        var csrf = answer.status === 400 && /CSRF/.test(String(answer.body.error));
        if (csrf && !retried) {
          return freshToken().then(
            function () { send(code, reason, entry, true); },
            function () { error(text("not-recorded"), text("logged-out"), entry, null); }
          );
        }
        answered(entry, answer.status, answer.body);
        return null;
      })
      .catch(function () {
        error(text("not-recorded"), text("no-answer"), entry, null);
      });
  }

  function pick(reason) {
    var code = armed;
    armed = null;
    showPrompt();
    reason.button.classList.add("picked");
    window.setTimeout(function () { reason.button.classList.remove("picked"); }, 400);
    var entry = addRecent(displayPieceCode(code), reason.code);
    var pending = text("pending", { code: displayPieceCode(code), reason: reasonText(reason.code) });
    showResult("pending", pending, null, null, null);
    entry.set("pending", pending);
    send(code, reason, entry, false);
  }

  function pieceScanned(typed) {
    var parsed = parsePieceCode(typed);
    var previous = armed;
    if (parsed.code && parsed.code === previous) {
      return; // the same piece scanned twice: still waiting for its reason
    }
    armed = null;
    var lost = previous ? text("not-recorded-previous", { code: displayPieceCode(previous) }) : null;
    if (parsed.error) {
      var entry = addRecent(typed, null);
      if (parsed.error === "check") {
        error(text("misread"), text("misread-detail", { code: typed }), entry, lost);
      } else if (parsed.error === "length") {
        error(text("not-a-code"), text("length-detail", { code: typed, count: parsed.count }), entry, lost);
      } else {
        error(text("not-a-code"), text("symbols-detail", { code: typed, symbols: parsed.symbols }), entry, lost);
      }
    } else {
      armed = parsed.code;
      if (lost) {
        notice(lost, text("now-piece", { code: displayPieceCode(armed) }));
      }
    }
    showPrompt();
  }

  function entered(typed) {
    var value = typed.trim();
    if (!value) {
      return;
    }
    var upper = value.toUpperCase();
    var reason = (upper.length === 1 && byKey[upper]) || byCode[upper];
    if (reason) {
      if (armed) {
        pick(reason);
      } else {
        notice(text("piece-first"), null);
      }
      return;
    }
    // Too short to be a piece code while one waits: a mistyped key, not a new piece.
    if (armed && Array.from(value.replace(SEPARATORS, "")).length < CODE_LENGTH - 2) {
      notice(text("not-a-key", { text: value }), text("prompt-armed", { code: displayPieceCode(armed) }));
      return;
    }
    pieceScanned(value);
  }

  function stopKeyTimer() {
    if (keyTimer !== null) {
      window.clearTimeout(keyTimer);
      keyTimer = null;
    }
  }

  input.addEventListener("keydown", function (event) {
    wakeAudio();
    if (event.key === "Enter") {
      event.preventDefault();
      stopKeyTimer();
      var typed = input.value;
      input.value = "";
      entered(typed);
    } else if (event.key === "Escape") {
      event.preventDefault();
      stopKeyTimer();
      input.value = "";
      if (armed) {
        var cancelled = armed;
        armed = null;
        showResult("idle", text("cancelled", { code: displayPieceCode(cancelled) }), null, null, null);
        showPrompt();
      }
    }
  });

  // One key pressed alone picks the reason; the same key followed quickly by more characters
  // is the start of a scanned code, which Enter ends.
  input.addEventListener("input", function () {
    stopKeyTimer();
    var key = input.value.trim().toUpperCase();
    if (!armed || key.length !== 1 || !byKey[key]) {
      return;
    }
    keyTimer = window.setTimeout(function () {
      keyTimer = null;
      if (armed && input.value.trim().toUpperCase() === key) {
        input.value = "";
        pick(byKey[key]);
      }
    }, keyWait);
  });

  // Tapping a reason on a tablet picks it too, without taking the focus from the field.
  Array.prototype.forEach.call(root.querySelectorAll(".reason-key"), function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      wakeAudio();
      stopKeyTimer();
      input.value = "";
      entered(button.getAttribute("data-key"));
      input.focus();
    });
  });

  // The field keeps the focus unless the clerk moved it somewhere on purpose (a link, a button).
  input.addEventListener("blur", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body || active === document.documentElement) {
        input.focus();
      }
    }, 0);
  });
  window.addEventListener("focus", function () { input.focus(); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      input.focus();
    }
  });

  showPrompt();
  input.focus();
  // A scanner may type a code (and its Enter, which nothing heard) before this script ran: take a
  // whole valid code as scanned; leave anything else in the field to finish or clear.
  var early = input.value.trim();
  if (early && parsePieceCode(early).code) {
    input.value = "";
    entered(early);
  }
})();
