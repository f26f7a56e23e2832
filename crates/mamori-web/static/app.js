// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive actions (forms carrying data-confirm).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  }
  // Filters apply as soon as a selection changes.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }

  // The network diagram: zoom with the wheel or the buttons, pan by dragging, a collapsed
  // group opens on click, a device or a line opens its page.
  const wrap = document.getElementById("diagram");
  const svg = wrap && wrap.querySelector("svg");
  if (svg) {
    const vb0 = svg.viewBox.baseVal;
    const home = { x: vb0.x, y: vb0.y, w: vb0.width, h: vb0.height };
    let view = { ...home };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    const zoom = (f, cx, cy) => {
      const nw = Math.min(home.w * 4, Math.max(home.w / 20, view.w * f));
      const k = nw / view.w;
      view = { x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w: nw, h: view.h * k };
      apply();
    };
    const toSvg = (ev) => {
      const r = svg.getBoundingClientRect();
      return { x: view.x + ((ev.clientX - r.left) / r.width) * view.w, y: view.y + ((ev.clientY - r.top) / r.height) * view.h };
    };
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const p = toSvg(ev);
      zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
    }, { passive: false });
    let drag = null;
    let moved = false;
    svg.addEventListener("pointerdown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, v: { ...view } }; moved = false; });
    window.addEventListener("pointerup", () => { drag = null; });
    svg.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const r = svg.getBoundingClientRect();
      const dx = ((ev.clientX - drag.x) / r.width) * view.w;
      const dy = ((ev.clientY - drag.y) / r.height) * view.h;
      if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 4) moved = true;
      view = { ...view, x: drag.v.x - dx, y: drag.v.y - dy };
      apply();
    });
    const centre = () => [view.x + view.w / 2, view.y + view.h / 2];
    document.getElementById("zoom-in")?.addEventListener("click", () => zoom(1 / 1.3, ...centre()));
    document.getElementById("zoom-out")?.addEventListener("click", () => zoom(1.3, ...centre()));
    document.getElementById("zoom-fit")?.addEventListener("click", () => { view = { ...home }; apply(); });
    svg.addEventListener("click", (ev) => {
      if (moved) return;
      const group = ev.target.closest("[data-group]");
      if (group) {
        const url = new URL(window.location.href);
        const keys = new Set((url.searchParams.get("expand") || "").split(",").filter(Boolean));
        keys.add(group.dataset.group);
        url.searchParams.set("expand", [...keys].join(","));
        window.location.assign(url.toString());
        return;
      }
      const asset = ev.target.closest("[data-asset]");
      if (asset) { window.location.assign(`/assets/${asset.dataset.asset}`); return; }
      const seg = ev.target.closest("[data-segment]");
      if (seg) { window.location.assign(`/assets?segment=${seg.dataset.segment}`); }
    });
  }
});

