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
  var undoUrl = root.getAttribute("data-undo-url");
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
      // A move asks for the forwarding address before it is recorded.
      moves: button.hasAttribute("data-moves"),
      button: button,
    };
    byKey[reason.key] = reason;
    byCode[reason.code.toUpperCase()] = reason;
  });

  function reasonText(code) {
    var reason = byCode[String(code).toUpperCase()];
    return reason ? reason.code + " · " + reason.label : String(code);
  }

  // --- sound: Web Audio tones, no files; each outcome its own ---------------------------------

  var SOUND_KEY = "mailer.mailroom.sound";
  // [frequency Hz, start s, length s, wave, volume]
  var CUES = {
    recorded: [[1320, 0, 0.09, "sine", 0.25]],
    moved: [[880, 0, 0.08, "sine", 0.25], [1320, 0.1, 0.08, "sine", 0.25], [1760, 0.2, 0.1, "sine", 0.22]],
    corrected: [[990, 0, 0.08, "triangle", 0.3], [1320, 0.12, 0.1, "triangle", 0.3]],
    already: [[700, 0, 0.1, "triangle", 0.35], [700, 0.16, 0.1, "triangle", 0.35]],
    undone: [[1100, 0, 0.08, "triangle", 0.3], [740, 0.12, 0.14, "triangle", 0.3]],
    ask: [[660, 0, 0.07, "sine", 0.3], [990, 0.09, 0.07, "sine", 0.3], [660, 0.18, 0.07, "sine", 0.3]],
    tray: [[1568, 0, 0.06, "sine", 0.2], [1568, 0.09, 0.06, "sine", 0.2], [1568, 0.18, 0.06, "sine", 0.2]],
    notice: [[520, 0, 0.12, "triangle", 0.35]],
    key: [[300, 0, 0.06, "square", 0.2], [300, 0.09, 0.06, "square", 0.2]],
    misread: [[260, 0, 0.08, "sawtooth", 0.22], [260, 0.11, 0.08, "sawtooth", 0.22], [260, 0.22, 0.08, "sawtooth", 0.22]],
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

  // Made now, suspended until the first key: making it on a key would delay that key's answer.
  wakeAudio();

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

  var flash = document.getElementById("scan-flash");
  var trayBanner = document.getElementById("tray-banner");
  var tally = { recorded: 0, already: 0, errors: 0 };
  var armed = null; // the canonical code of the piece waiting for its reason
  var tray = null; // the reason every scan of the tray is recorded with
  var askingTrayReason = false;
  var lastRecorded = null; // {code, reason, entry} of the last scan this page recorded, for undo
  var lastCountry = "";

  function showPrompt() {
    var state = askingTrayReason ? "tray-ask" : tray ? "tray" : armed ? "armed" : "idle";
    prompt.setAttribute("data-state", state);
    if (askingTrayReason) {
      prompt.textContent = text("prompt-tray-ask");
    } else if (tray) {
      prompt.textContent = text("prompt-tray", { reason: reasonText(tray.code) });
    } else {
      prompt.textContent = armed ? text("prompt-armed", { code: displayPieceCode(armed) }) : text("prompt-idle");
    }
    Array.prototype.forEach.call(root.querySelectorAll(".reason-key"), function (button) {
      button.classList.toggle("ready", Boolean(armed) || askingTrayReason);
      button.classList.toggle("tray-reason", Boolean(tray) && button.getAttribute("data-code") === tray.code);
    });
    trayBanner.hidden = !tray;
    if (tray) {
      trayBanner.querySelector("[data-role=tray-reason]").textContent = reasonText(tray.code);
    }
    root.setAttribute("data-tray", tray ? tray.code : "");
  }

  function count(name, by) {
    tally[name] += by === undefined ? 1 : by;
    root.querySelector("[data-count=" + name + "]").textContent = String(tally[name]);
  }

  function setPart(role, value) {
    var element = part(role);
    element.textContent = value || "";
    element.hidden = !value;
  }

  // The whole window flashes the outcome's colour (and pattern), so it is seen from across the room.
  function flashWindow(tone) {
    if (tone !== "good" && tone !== "warn" && tone !== "bad") {
      return;
    }
    flash.setAttribute("data-tone", tone);
    flash.classList.remove("on");
    void flash.offsetWidth; // restart the animation
    flash.classList.add("on");
  }

  function lines(target, values) {
    target.textContent = "";
    values.forEach(function (line) {
      var row = document.createElement("div");
      row.textContent = line;
      target.appendChild(row);
    });
  }

  /* Show one result: tone "good", "warn", "bad", "pending" or "idle"; facts is the API's answer or null. */
  function showResult(tone, headline, detail, facts, message) {
    result.setAttribute("data-tone", tone);
    setPart("headline", headline);
    part("headline").hidden = false;
    setPart("detail", detail);
    setPart("message", message);
    flashWindow(tone);
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
    // Every line as printed on the envelope: a Chinese block puts the addressee last.
    lines(part("address"), facts.piece.lines);
    var moved = facts.address.moved_to;
    var movedTo = part("moved-to");
    movedTo.hidden = !moved;
    movedTo.previousElementSibling.hidden = !moved;
    if (moved) {
      lines(movedTo, [moved.line1, moved.line2, [moved.postal_code, moved.city, moved.region].filter(Boolean).join(" "),
        moved.country].filter(Boolean));
    }
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
      item: item,
      set: function (tone, summary, reasonCode) {
        item.setAttribute("data-tone", tone);
        what.textContent = summary;
        if (reasonCode) {
          why.textContent = reasonCode;
        }
      },
    };
  }

  function error(headline, detail, entry, message, sound) {
    count("errors");
    showResult("bad", headline, detail, null, message);
    if (entry) {
      entry.set("bad", headline);
    }
    cue(sound || "error");
  }

  function notice(headline, detail, sound) {
    showResult("warn", headline, detail, null, null);
    cue(sound || "notice");
  }

  // --- talking to the returns API ------------------------------------------------------------

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

  /* Post a JSON body; call done(status, body), with status 0 when no answer came. */
  function post(url, payload, done, retried) {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(payload),
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
            function () { post(url, payload, done, true); },
            function () { done(401, {}); }
          );
        }
        done(answer.status, answer.body);
        return null;
      })
      .catch(function () { done(0, {}); });
  }

  function refused(entry, status, body) {
    var said = body && typeof body.error === "string" ? body.error : null;
    if (status === 0) {
      error(text("not-recorded"), text("no-answer"), entry, null);
    } else if (status === 401) {
      error(text("not-recorded"), text("logged-out"), entry, said);
    } else if (status === 403) {
      error(text("not-recorded"), text("forbidden"), entry, said);
    } else if (status === 404) {
      error(text("unknown-piece"), null, entry, said);
    } else {
      error(text("not-recorded"), null, entry, said || String(status));
    }
  }

  function answered(entry, status, body, sent) {
    if (status !== 200 && status !== 201) {
      refused(entry, status, body);
      return;
    }
    var facts = body;
    var name = facts.customer.name;
    if (facts.address.moved_to && facts.address.moved_to.country) {
      lastCountry = facts.address.moved_to.country;
    }
    if (facts.already_recorded) {
      count("already");
      showResult("warn", text("already-recorded"), null, facts, facts.message);
      entry.set("warn", text("already-recorded") + " · " + name, facts.reason.code);
      cue("already");
      return;
    }
    count("recorded");
    lastRecorded = { code: sent.piece_code, reason: facts.reason.code, entry: entry };
    if (facts.corrected) {
      var corrected = text("corrected", { reason: reasonText(facts.corrected_from) });
      showResult("warn", corrected, null, facts, facts.message);
      entry.set("warn", corrected + " · " + name, facts.reason.code);
      cue("corrected");
    } else if (facts.address.moved_to) {
      showResult("good", text("moved"), null, facts, facts.message);
      entry.set("good", text("moved") + " · " + name, facts.reason.code);
      cue("moved");
    } else if (sent.reason !== facts.reason.code) {
      // MOVED without the new address: recorded as its fallback, which the clerk must see.
      var fallback = text("recorded-as", { reason: reasonText(facts.reason.code) });
      showResult("warn", fallback, null, facts, facts.message);
      entry.set("warn", fallback + " · " + name, facts.reason.code);
      cue("corrected");
    } else {
      showResult("good", text("recorded"), null, facts, facts.message);
      entry.set("good", text("recorded") + " · " + name, facts.reason.code);
      cue("recorded");
    }
  }

  function send(code, reason, newAddress, entry, done) {
    var payload = { piece_code: code, reason: reason.code };
    if (newAddress) {
      payload.new_address = newAddress;
    }
    post(apiUrl, payload, function (status, body) {
      if (done && done(status, body)) {
        return; // the caller handled it (the forwarding address form keeps what was typed)
      }
      answered(entry, status, body, payload);
    });
  }

  function undoLast() {
    if (!lastRecorded) {
      notice(text("nothing-to-undo"), null);
      return;
    }
    var last = lastRecorded;
    lastRecorded = null;
    showResult("pending", text("undoing", { code: displayPieceCode(last.code) }), null, null, null);
    post(undoUrl, { piece_code: last.code, reason: last.reason }, function (status, body) {
      if (status !== 200) {
        refused(null, status, body);
        return;
      }
      count("recorded", -1);
      var headline = text("undone", { code: displayPieceCode(last.code), reason: reasonText(last.reason) });
      showResult("warn", headline, null, body, body.message);
      last.entry.item.classList.add("undone");
      last.entry.set("warn", headline);
      cue("undone");
    });
  }

  // --- the forwarding address of a move ----------------------------------------------------------

  var moveForm = document.getElementById("move-form");
  var moveFields = Array.prototype.slice.call(moveForm.querySelectorAll("input[name]"));
  var moveProblem = moveForm.querySelector("[data-role=move-problem]");
  var moving = null; // {code, reason} of the piece whose forwarding address is being typed

  function openMoveForm(code, reason) {
    moving = { code: code, reason: reason };
    moveForm.hidden = false;
    moveProblem.hidden = true;
    moveFields.forEach(function (field) { field.value = ""; });
    moveForm.querySelector("[name=country]").value = lastCountry;
    moveForm.querySelector("[data-role=move-piece]").textContent = displayPieceCode(code);
    root.setAttribute("data-moving", code);
    showResult("pending", text("ask-forwarding", { code: displayPieceCode(code) }), text("ask-forwarding-detail"), null, null);
    cue("ask");
    moveFields[0].focus();
  }

  function closeMoveForm() {
    moving = null;
    moveForm.hidden = true;
    root.removeAttribute("data-moving");
    input.focus();
  }

  function moveProblemSays(message) {
    moveProblem.textContent = message;
    moveProblem.hidden = false;
    count("errors");
    showResult("bad", text("move-not-recorded"), message, null, null);
    cue("error");
  }

  function submitMove() {
    var values = {};
    var any = false;
    moveFields.forEach(function (field) {
      values[field.name] = field.value.trim();
      any = any || (field.name !== "country" && Boolean(values[field.name]));
    });
    if (!any) {
      moveProblemSays(text("move-empty"));
      moveFields[0].focus();
      return;
    }
    var piece = moving;
    var entry = addRecent(displayPieceCode(piece.code), piece.reason.code);
    entry.set("pending", text("pending", { code: displayPieceCode(piece.code), reason: reasonText(piece.reason.code) }));
    moveForm.setAttribute("aria-busy", "true");
    send(piece.code, piece.reason, values, entry, function (status, body) {
      moveForm.removeAttribute("aria-busy");
      if (status === 422 || status === 400) {
        // The address as typed stays in the form, the piece waits: correct it or skip.
        entry.set("bad", text("move-not-recorded"));
        moveProblemSays(body && body.error ? body.error : String(status));
        moveFields[0].focus();
        return true;
      }
      closeMoveForm();
      return false;
    });
  }

  function skipMove() {
    var piece = moving;
    closeMoveForm();
    var entry = addRecent(displayPieceCode(piece.code), piece.reason.code);
    entry.set("pending", text("pending", { code: displayPieceCode(piece.code), reason: reasonText(piece.reason.code) }));
    send(piece.code, piece.reason, null, entry, null);
  }

  moveForm.addEventListener("submit", function (event) {
    event.preventDefault();
    submitMove();
  });
  moveForm.querySelector("[data-action=skip]").addEventListener("click", skipMove);
  // A scanner's burst typed into the address (the clerk scanned the next envelope) is not an
  // address: take it out again and say so; the piece keeps waiting for its address.
  moveFields.forEach(function (field) {
    var keys = [];
    field.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        skipMove();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        var run = scannerRun(keys, event.timeStamp);
        keys = [];
        var tail = Array.from(field.value).slice(-run).join("").trim();
        if (run >= SCAN_MIN_LENGTH && (parsePieceCode(tail).code || byCode[tail.toUpperCase()])) {
          event.preventDefault();
          field.value = Array.from(field.value).slice(0, -run).join("");
          moveProblemSays(text("scan-in-form", { code: displayPieceCode(moving.code) }));
          field.focus();
        }
        return;
      }
      if (isCharacter(event)) {
        keys.push(event.timeStamp);
      }
    });
  });

  // --- keys: a scanner types fast and ends with Enter or Tab; a person types one key ---------------

  // Slower than this between two keys is a person; scanners type a character every few ms.
  var SCANNER_GAP_LIMIT = 50;
  // Keys of the page itself: U (no piece code has it) undoes the last scan, T (no piece code starts
  // with it) starts and ends a tray.
  var UNDO_KEY = "U";
  var TRAY_KEY = "T";
  // The fewest characters a scan has (a reason's code on the card: three).
  var SCAN_MIN_LENGTH = 3;
  // The shortest wait before a lone key counts as a key, however fast the scanner seemed.
  var MIN_KEY_WAIT = 15;
  // A key a person typed that starts nothing is dropped after this, unless they keep typing a code.
  var STRAY_CLEAR_MS = 1500;
  // What can start a scan: a piece code's symbols (and what people type for them), a reason's code.
  var CAN_START = {};
  (ALPHABET + "OIL").split("").forEach(function (symbol) { CAN_START[symbol] = true; });
  Object.keys(byCode).forEach(function (code) { CAN_START[code.charAt(0)] = true; });

  var typed = []; // what is in the field: [{ch, at}], kept by this script
  var loneTimer = null;
  var strayTimer = null;
  var scannerGaps = []; // the slowest gap of each recent scan, to time the next lone key

  function isCharacter(event) {
    return !event.ctrlKey && !event.metaKey && !event.altKey && Array.from(event.key).length === 1;
  }

  /* How many of the last keys (times in ms, then the suffix's) came at a scanner's pace. */
  function scannerRun(times, suffixAt) {
    var all = times.concat([suffixAt]);
    var run = 0;
    for (var i = all.length - 1; i > 0; i -= 1) {
      if (all[i] - all[i - 1] >= SCANNER_GAP_LIMIT) {
        break;
      }
      run += 1;
    }
    return Math.min(run, times.length);
  }

  // Once a scan has been timed, a lone key waits only a little longer than the scanner's slowest gap.
  function loneKeyWait() {
    if (!scannerGaps.length) {
      return keyWait;
    }
    // The median of the recent scans: one scan slowed by a busy machine must not slow every answer.
    var sorted = scannerGaps.slice().sort(function (a, b) { return a - b; });
    var usual = sorted[Math.floor(sorted.length / 2)];
    return Math.min(keyWait, Math.max(MIN_KEY_WAIT, Math.ceil(usual * 3)));
  }

  function learn(times, suffixAt, run) {
    var all = times.slice(times.length - run).concat([suffixAt]);
    var gaps = [];
    for (var i = 1; i < all.length; i += 1) {
      gaps.push(all[i] - all[i - 1]);
    }
    gaps.sort(function (a, b) { return a - b; });
    // The scan's usual gap, not its slowest: one late key must not slow every answer after it.
    scannerGaps.push(gaps[Math.floor(gaps.length * 0.75)]);
    if (scannerGaps.length > 10) {
      scannerGaps.shift();
    }
    root.setAttribute("data-key-wait", String(loneKeyWait()));
  }

  function stopTimers() {
    if (loneTimer !== null) {
      window.clearTimeout(loneTimer);
      loneTimer = null;
    }
    if (strayTimer !== null) {
      window.clearTimeout(strayTimer);
      strayTimer = null;
    }
  }

  function showTyped() {
    input.value = typed.map(function (key) { return key.ch; }).join("");
  }

  function clearField() {
    stopTimers();
    typed = [];
    showTyped();
  }

  function pick(reason) {
    if (!armed) {
      return;
    }
    var code = armed;
    armed = null;
    showPrompt();
    reason.button.classList.add("picked");
    window.setTimeout(function () { reason.button.classList.remove("picked"); }, 400);
    if (reason.moves) {
      openMoveForm(code, reason);
      return;
    }
    record(code, reason);
  }

  function record(code, reason) {
    var entry = addRecent(displayPieceCode(code), reason.code);
    var pending = text("pending", { code: displayPieceCode(code), reason: reasonText(reason.code) });
    showResult("pending", pending, null, null, null);
    entry.set("pending", pending);
    send(code, reason, null, entry, null);
  }

  function pieceScanned(value, stray) {
    var parsed = parsePieceCode(value);
    var previous = armed;
    if (parsed.code && parsed.code === previous) {
      return; // the same piece scanned twice: still waiting for its reason
    }
    armed = null;
    var lost = previous ? text("not-recorded-previous", { code: displayPieceCode(previous) }) : null;
    if (parsed.error) {
      var entry = addRecent(value, null);
      if (parsed.error === "check") {
        error(text("misread"), text("misread-detail", { code: value }), entry, lost, "misread");
      } else if (parsed.error === "length") {
        error(text("not-a-code"), text("length-detail", { code: value, count: parsed.count }), entry, lost, "misread");
      } else {
        error(text("not-a-code"), text("symbols-detail", { code: value, symbols: parsed.symbols }), entry, lost, "misread");
      }
    } else if (tray) {
      record(parsed.code, tray);
    } else {
      armed = parsed.code;
      if (lost) {
        notice(lost, text("now-piece", { code: displayPieceCode(armed) }));
      } else if (stray) {
        notice(text("stray-dropped", { text: stray }), text("prompt-armed", { code: displayPieceCode(armed) }));
      }
    }
    showPrompt();
  }

  function setTray(reason) {
    askingTrayReason = false;
    tray = reason;
    showPrompt();
    if (reason.moves) {
      notice(text("tray-moved"), null, "key");
      tray = null;
      showPrompt();
      return;
    }
    showResult("idle", text("tray-started", { reason: reasonText(reason.code) }), null, null, null);
    cue("tray");
    if (armed) {
      pick(reason);
    }
  }

  function endTray() {
    askingTrayReason = false;
    var ended = tray;
    tray = null;
    showPrompt();
    showResult("idle", ended ? text("tray-ended", { reason: reasonText(ended.code) }) : text("tray-cancelled"), null, null, null);
    cue("tray");
  }

  /* One key a person pressed on its own: answer it at once; keep it only as the start of a typed code. */
  function lone(key) {
    var upper = key.toUpperCase();
    var reason = byKey[upper];
    if (upper === UNDO_KEY) {
      clearField();
      undoLast();
    } else if (upper === TRAY_KEY) {
      clearField();
      if (tray || askingTrayReason) {
        endTray();
      } else {
        askingTrayReason = true;
        showPrompt();
        showResult("idle", text("prompt-tray-ask"), null, null, null);
        cue("tray");
      }
    } else if (reason && askingTrayReason) {
      clearField();
      setTray(reason);
    } else if (reason && armed) {
      clearField();
      pick(reason);
    } else if (reason && tray) {
      clearField();
      setTray(reason);
    } else if (armed || askingTrayReason) {
      clearField();
      var waiting = askingTrayReason ? text("prompt-tray-ask") : text("prompt-armed", { code: displayPieceCode(armed) });
      error(text("not-a-key-title", { text: key }), waiting, null, null, "key");
    } else if (reason) {
      // No piece waits: answered now, and dropped unless the clerk goes on typing a code by hand.
      notice(text("piece-first"), text("typing-hint"), "key");
      strayTimer = window.setTimeout(dropStray, STRAY_CLEAR_MS);
    } else if (!CAN_START[upper]) {
      clearField();
      error(text("not-a-key-title", { text: key }), text("prompt-idle"), null, null, "key");
    } else {
      showResult("idle", text("typing-hint"), null, null, null);
      strayTimer = window.setTimeout(dropStray, STRAY_CLEAR_MS);
    }
  }

  function dropStray() {
    strayTimer = null;
    if (typed.length === 1) {
      clearField();
      showResult("idle", text("stray-cleared"), null, null, null);
    }
  }

  /* Enter or Tab: what the field holds is one entry; a scanner's run drops whatever a person typed before it. */
  function suffix(at) {
    stopTimers();
    var times = typed.map(function (key) { return key.at; });
    var all = typed.map(function (key) { return key.ch; }).join("");
    var run = scannerRun(times, at);
    var stray = null;
    var value = all;
    if (run >= SCAN_MIN_LENGTH) {
      learn(times, at, run);
      var scanned = typed.slice(typed.length - run).map(function (key) { return key.ch; }).join("");
      // The check character settles it: a whole valid entry is kept whole (a slow first key is
      // the scanner waking up), else a valid scan drops what a person typed before it.
      if (run < typed.length && !valid(all) && valid(scanned)) {
        stray = typed.slice(0, typed.length - run).map(function (key) { return key.ch; }).join("");
        value = scanned;
      }
    }
    typed = [];
    showTyped();
    entered(value.trim(), stray);
  }

  function valid(value) {
    var trimmed = value.trim();
    return Boolean(parsePieceCode(trimmed).code || byCode[trimmed.toUpperCase()]);
  }

  function entered(value, stray) {
    if (!value) {
      return;
    }
    var upper = value.toUpperCase();
    var reason = (Array.from(upper).length === 1 && byKey[upper]) || byCode[upper];
    if (reason) {
      if (askingTrayReason || (tray && !armed)) {
        setTray(reason);
      } else if (armed) {
        pick(reason);
      } else {
        notice(text("piece-first"), null, "key");
      }
      return;
    }
    if (upper === UNDO_KEY || upper === TRAY_KEY) {
      lone(value);
      return;
    }
    // Too short to be a piece code while one waits: a mistyped key, not a new piece.
    if (armed && Array.from(value.replace(SEPARATORS, "")).length < CODE_LENGTH - 2) {
      error(text("not-a-key-title", { text: value }), text("prompt-armed", { code: displayPieceCode(armed) }), null, null, "key");
      return;
    }
    pieceScanned(value, stray);
  }

  function cancel() {
    clearField();
    if (askingTrayReason || tray) {
      endTray();
    } else if (armed) {
      var cancelled = armed;
      armed = null;
      showResult("idle", text("cancelled", { code: displayPieceCode(cancelled) }), null, null, null);
      showPrompt();
      cue("key");
    }
  }

  input.addEventListener("keydown", function (event) {
    wakeAudio();
    if (event.isComposing) {
      return;
    }
    if (event.key === "Enter" || event.key === "Tab") {
      if (event.key === "Tab" && !typed.length) {
        return; // a person moving the focus on purpose
      }
      event.preventDefault();
      suffix(event.timeStamp);
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    } else if (event.key === "Backspace") {
      event.preventDefault();
      stopTimers();
      typed.pop();
      showTyped();
    } else if (isCharacter(event)) {
      event.preventDefault();
      stopTimers();
      typed.push({ ch: event.key, at: event.timeStamp });
      showTyped();
      if (typed.length === 1) {
        if (!CAN_START[event.key.toUpperCase()]) {
          // Nothing starts with it: no need to wait for more keys.
          lone(event.key);
          clearField();
          return;
        }
        var key = event.key;
        markKey(key);
        loneTimer = window.setTimeout(function () {
          loneTimer = null;
          if (typed.length === 1 && typed[0].ch === key) {
            lone(key);
          }
        }, loneKeyWait());
      }
    }
  });

  // Pasted or composed text (no key events of its own) is typed by a person: keep it as typed.
  input.addEventListener("input", function () {
    if (input.value !== typed.map(function (key) { return key.ch; }).join("")) {
      stopTimers();
      var now = window.performance.now();
      typed = Array.from(input.value).map(function (ch) { return { ch: ch, at: now - SCANNER_GAP_LIMIT * 10 }; });
    }
  });

  // The key just pressed lights up at once, whatever it turns out to be.
  function markKey(key) {
    var reason = byKey[key.toUpperCase()];
    if (reason) {
      reason.button.classList.add("pressed");
      window.setTimeout(function () { reason.button.classList.remove("pressed"); }, 250);
    }
  }

  // Tapping a reason on a tablet picks it too, without taking the focus from the field.
  Array.prototype.forEach.call(root.querySelectorAll(".reason-key"), function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      wakeAudio();
      clearField();
      entered(button.getAttribute("data-key"), null);
      input.focus();
    });
  });

  // The field keeps the focus unless the clerk moved it somewhere on purpose (a link, a button, the move form).
  input.addEventListener("blur", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body || active === document.documentElement) {
        (moving ? moveFields[0] : input).focus();
      }
    }, 0);
  });
  window.addEventListener("focus", function () { (moving ? moveFields[0] : input).focus(); });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      (moving ? moveFields[0] : input).focus();
    }
  });

  showPrompt();
  input.focus();
  // A scanner may type a code (and its Enter, which nothing heard) before this script ran: take a
  // whole valid code as scanned; clear anything else, so it is never glued to the next scan.
  var early = input.value.trim();
  input.value = "";
  if (early && parsePieceCode(early).code) {
    entered(early, null);
  } else if (early) {
    showResult("idle", text("stray-cleared"), null, null, null);
  }
})();
