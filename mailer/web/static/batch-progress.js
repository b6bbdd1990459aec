/* The batch page while its render runs: poll the progress endpoint, show files and pieces done,
   and reload the page when the render has finished or stopped (it then lists the downloads or
   the reason). A plain script file: the content security policy allows no inline script. */
(function () {
  "use strict";

  var box = document.getElementById("render-progress");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var text = box.querySelector("[data-role=text]");
  var bar = box.querySelector("progress");
  var noWorker = box.querySelector("[data-role=no-worker]");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var quickly = 2000;
  var delay = quickly;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? numbers.format(values[name]) : whole;
    });
  }

  function show(progress) {
    // Said plainly while no worker listens on the queue; null (the queue unreachable) says nothing new.
    if (noWorker && progress.workers !== null && progress.workers !== undefined) {
      noWorker.hidden = progress.workers !== 0;
    }
    if (progress.files_total > 0) {
      bar.max = progress.pieces_total || 1;
      bar.value = progress.pieces_done;
      text.textContent = fill(box.getAttribute("data-text-running"), progress);
    } else {
      bar.removeAttribute("value");
      text.textContent = box.getAttribute("data-text-waiting");
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress answered " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        if (progress.done || progress.error || progress.status !== "rendering") {
          window.location.reload();
          return;
        }
        show(progress);
        delay = quickly;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // Logged out, or the server is restarting: try again, less and less often.
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, 500);
})();
