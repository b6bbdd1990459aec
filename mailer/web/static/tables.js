/* Wide tables: a table wider than the screen scrolls sideways inside its frame, and says so. A hint
   above the frame names the way to see more, and the frame's edges shade where columns are hidden;
   both follow the window's width (a tablet turned, a window resized). */
(function () {
  "use strict";
  var hintText = document.body.getAttribute("data-scroll-hint") || "";

  function mark(frame) {
    var scrolls = frame.scrollWidth > frame.clientWidth + 1;
    frame.classList.toggle("scrolls", scrolls);
    var hint = frame.previousElementSibling;
    if (!(hint && hint.classList.contains("scroll-hint"))) {
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = hintText;
      frame.parentNode.insertBefore(hint, frame);
    }
    hint.hidden = !scrolls;
    frame.classList.toggle("at-start", frame.scrollLeft <= 1);
    frame.classList.toggle("at-end", frame.scrollLeft + frame.clientWidth >= frame.scrollWidth - 1);
  }

  function markAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), mark);
  }

  document.addEventListener("scroll", function (event) {
    if (event.target.classList && event.target.classList.contains("table-wrap")) { mark(event.target); }
  }, true);
  window.addEventListener("resize", markAll);
  markAll();
})();
