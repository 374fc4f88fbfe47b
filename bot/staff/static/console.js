// Live updates for the staff console: Server-Sent Events swap in server-rendered HTML.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const street = document.querySelector("select[name=street]");
  if (street) street.addEventListener("change", () => street.form.submit());

  const reply = document.getElementById("reply");
  if (reply) {
    reply.addEventListener("htmx:afterRequest", (e) => { if (e.detail.successful) reply.reset(); });
    reply.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) htmx.trigger(reply, "submit");
    });
  }
  document.body.addEventListener("htmx:responseError", (e) => {
    alert(e.detail.xhr.responseText || "操作失败,请重试。");
  });

  const live = document.querySelector("[data-sse]");
  if (!live) return;
  const source = new EventSource(live.dataset.sse);
  const transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;
  source.addEventListener("queue", (e) => { document.getElementById("queue").innerHTML = e.data; });
  source.addEventListener("line", (e) => {
    const probe = document.createElement("template");
    probe.innerHTML = e.data.trim();
    const item = probe.content.firstElementChild;
    if (!transcript || !item || document.getElementById(item.id)) return;
    transcript.appendChild(item);
    transcript.scrollTop = transcript.scrollHeight;
  });
  // A plain form (claim, release, close) navigates away: stop listening, or its own change
  // would reload this page over the navigation.
  document.addEventListener("submit", (e) => { if (!e.target.hasAttribute("hx-post")) source.close(); });
  // The case changed hands (claimed elsewhere, released, closed): reload what this page shows.
  source.addEventListener("case", () => { source.close(); window.location.reload(); });
});
