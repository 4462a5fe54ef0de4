// Draws every figure of the page: the figure's JSON sits in <script type="application/json" class="figure">.
(function () {
  "use strict";
  function draw() {
    var blocks = document.querySelectorAll("script.figure[type='application/json']");
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.querySelector("[data-figure='" + block.id + "']");
      if (!target) { return; }
      var figure = JSON.parse(block.textContent);
      var layout = figure.layout || {};
      layout.autosize = true;
      window.Plotly.newPlot(target, figure.data || [], layout, { responsive: true, displaylogo: false });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
