// The analytics page's charts: numbers from /staff/api/analytics, drawn by the vendored Chart.js.
"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const holder = document.querySelector("[data-analytics]");
  if (!holder || typeof Chart === "undefined") return;
  const response = await fetch(holder.dataset.analytics, { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  const colours = ["#1a5fb4", "#b3261e", "#26a269", "#e5a50a", "#813d9c", "#1c71d8", "#c64600", "#5e5c64",
                   "#2ec27e", "#f66151", "#3584e4", "#986a44", "#63452c", "#a51d2d"];
  document.querySelectorAll("canvas[data-key]").forEach((canvas) => {
    const counts = data.by[canvas.dataset.key] || {};
    const pie = canvas.dataset.key === "channel" || canvas.dataset.key === "status";
    new Chart(canvas, {
      type: pie ? "doughnut" : "bar",
      data: { labels: Object.keys(counts),
              datasets: [{ label: "建议数", data: Object.values(counts), backgroundColor: colours }] },
      options: { animation: false, responsive: true, indexAxis: pie ? "x" : "y",
                 plugins: { legend: { display: pie } }, scales: pie ? {} : { x: { ticks: { precision: 0 } } } },
    });
    canvas.dataset.rendered = "1";
  });
  holder.dataset.rendered = "1";
});
