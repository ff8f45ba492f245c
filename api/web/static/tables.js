// A table wider than its box (a phone's screen) says so above its rows: the box gets
// data-scrolls and, from the page, the hint to read (the shadows at its edges show the side).
(function () {
  function mark() {
    var hint = document.body.getAttribute("data-scroll-hint") || "";
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.toggleAttribute("data-scrolls", scrolls);
      wrap.setAttribute("data-hint", hint);
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  window.addEventListener("resize", mark);
})();
