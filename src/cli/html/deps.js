// The dependency graph page of `git regraft deps --format html`. The data and its layout
// come from regraft (the JSON element "data"); this draws one cluster at a time as SVG.
"use strict";
(function () {
  var started = performance.now();
  var D = JSON.parse(document.getElementById("data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var CW = 190, RH = 30, NW = 168, NH = 22, PAD = 12;

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function short(i) { return D.nodes[i].id.slice(0, 10); }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  // Edges by the dependent and by the dependency; the views each commit is in.
  var depsOf = D.nodes.map(function () { return []; });
  D.edges.forEach(function (e, k) { depsOf[e.commit].push(k); });
  var viewsOf = D.nodes.map(function () { return {}; });
  D.views.forEach(function (v, k) {
    v.nodes.forEach(function (i) { viewsOf[i][v.kind] = k; });
  });
  var wanted = {};
  D.wanted.forEach(function (i) { wanted[i] = true; });

  var current = null, selected = null, tab = null;

  function summary() {
    var n = D.nodes.length, present = 0;
    D.nodes.forEach(function (c) { if (c.on_target) present++; });
    var what = D.predicted === "closure" ? "the closure's picks" : "every pick of the delta";
    $("summary").innerHTML = esc(n + " changes only on " + D.source + ", " + present +
      " already on " + D.target + "; " + D.edges.length + " edges. Predicted for " + what +
      ": " + D.clean + " clean, " + D.empty + " empty, ") +
      (D.conflicts ? '<span class="bad">' + esc(D.conflicts + " conflicting") + "</span>." : "0 conflicting.");
  }

  function tabs() {
    var kinds = [];
    if (D.views.length && D.views[0].kind === "closure") kinds.push(["closure", "the fix's closure"]);
    kinds.push(["area", "by file area"], ["time", "by month"]);
    $("tabs").innerHTML = kinds.map(function (k) {
      return '<button type="button" data-tab="' + k[0] + '">' + esc(k[1]) + "</button>";
    }).join("");
    $("tabs").onclick = function (ev) {
      var b = ev.target.closest("button[data-tab]");
      if (b) showTab(b.dataset.tab);
    };
  }

  function showTab(kind) {
    tab = kind;
    Array.prototype.forEach.call($("tabs").children, function (b) {
      b.classList.toggle("on", b.dataset.tab === kind);
    });
    var html = "";
    D.views.forEach(function (v, k) {
      if (v.kind !== kind) return;
      html += '<button type="button" class="cluster' + (k === current ? " on" : "") +
        '" data-view="' + k + '"><b>' + esc(v.name) + "</b> " + v.nodes.length +
        (v.conflicts ? ' <span class="bad">' + v.conflicts + " conflict" +
          (v.conflicts > 1 ? "s" : "") + "</span>" : "") + "</button>";
    });
    $("clusters").innerHTML = html;
    if (kind === "closure") openView(0);
  }
  $("clusters").onclick = function (ev) {
    var b = ev.target.closest("button[data-view]");
    if (b) openView(+b.dataset.view);
  };

  function nodeClass(i) {
    var c = D.nodes[i], cls = "node";
    if (c.on_target) cls += " present";
    if (c.outcome) cls += " " + c.outcome;
    if (wanted[i]) cls += " wanted";
    if (i === selected) cls += " sel";
    return cls;
  }

  // Draws view k: members at the places regraft computed, edges between them.
  function openView(k) {
    current = k;
    var v = D.views[k], at = {};
    v.nodes.forEach(function (i, n) {
      at[i] = [PAD + v.col[n] * CW, PAD + v.row[n] * RH];
    });
    var w = PAD * 2 + Math.max(1, v.width) * CW, h = PAD * 2 + Math.max(1, v.height) * RH;
    var edges = [], nodes = [];
    v.nodes.forEach(function (i) {
      var outside = 0;
      depsOf[i].forEach(function (k2) {
        var e = D.edges[k2], a = at[e.depends_on];
        if (!a) { outside++; return; }
        var b = at[i], x1 = b[0], y1 = b[1] + NH / 2, x2 = a[0] + NW, y2 = a[1] + NH / 2;
        var mx = (x1 + x2) / 2;
        edges.push('<path class="edge ' + e.kind + '" data-from="' + i + '" data-to="' +
          e.depends_on + '" d="M' + x1 + " " + y1 + "C" + mx + " " + y1 + " " + mx + " " +
          y2 + " " + x2 + " " + y2 + '"/>');
      });
      var c = D.nodes[i], p = at[i];
      var label = (c.pick && D.predicted === "closure" ? c.pick + ". " : "") + short(i).slice(0, 8) +
        " " + c.subject;
      nodes.push('<g class="' + nodeClass(i) + '" data-i="' + i + '" data-id="' + c.id +
        '" transform="translate(' + p[0] + "," + p[1] + ')"><title>' + esc(c.id.slice(0, 10) +
        " " + c.subject) + '</title><rect width="' + NW + '" height="' + NH + '" rx="4"/>' +
        '<text x="6" y="15">' + esc(clip(label, c.outcome === "conflict" ? 22 : 24)) + "</text>" +
        (c.outcome === "conflict" ? '<text class="mark" x="' + (NW - 12) + '" y="15">!</text>' : "") +
        (outside ? '<text class="outside" x="' + (NW + 2) + '" y="9">+' + outside + "</text>" : "") +
        "</g>");
    });
    $("graph").innerHTML = '<h2 class="view-name">' + esc(v.name) + " <small>" + v.nodes.length +
      " commits</small></h2>" + '<svg xmlns="' + NS + '" width="' + w + '" height="' + h +
      '" viewBox="0 0 ' + w + " " + h + '">' + edges.join("") + nodes.join("") + "</svg>";
    Array.prototype.forEach.call($("clusters").children, function (b) {
      b.classList.toggle("on", +b.dataset.view === k);
    });
    if (selected !== null) mark(selected);
  }
  $("graph").onclick = function (ev) {
    var g = ev.target.closest("g.node");
    if (g) select(+g.dataset.i);
  };

  function mark(i) {
    var svg = $("graph").querySelector("svg");
    if (!svg) return;
    Array.prototype.forEach.call(svg.querySelectorAll(".sel,.near"), function (x) {
      x.classList.remove("sel", "near");
    });
    Array.prototype.forEach.call(svg.querySelectorAll('[data-i="' + i + '"]'), function (x) {
      x.classList.add("sel");
    });
    Array.prototype.forEach.call(svg.querySelectorAll('path[data-from="' + i + '"],path[data-to="' + i + '"]'),
      function (x) { x.classList.add("near"); });
  }

  function link(i) {
    return '<button type="button" class="commit" data-go="' + i + '" data-id="' + D.nodes[i].id +
      '"><code>' + short(i) + "</code> " + esc(clip(D.nodes[i].subject, 70)) + "</button>";
  }

  // Shows commit i: what it is, what it needs and why, how its pick goes, what it holds up.
  function select(i) {
    selected = i;
    mark(i);
    var c = D.nodes[i], h = [];
    h.push('<h2 id="selected" data-id="' + c.id + '"><code>' + esc(c.id.slice(0, 10)) + "</code> " +
      '<span class="subject">' + esc(c.subject) + "</span></h2>");
    h.push("<dl><dt>commit</dt><dd><code>" + c.id + "</code></dd>");
    h.push("<dt>author</dt><dd>" + esc(c.author) + ", " + esc(c.date) + "</dd>");
    if (c.change_ids.length) h.push("<dt>Change-Id</dt><dd><code>" + c.change_ids.map(esc).join(", ") + "</code></dd>");
    var pick;
    if (c.on_target) pick = '<span class="present">already on ' + esc(D.target) + "</span> (not picked)";
    else if (!c.outcome) pick = "not in the closure (not picked)";
    else pick = "pick " + c.pick + ": <span class=\"" + c.outcome + '">' + c.outcome + "</span>" +
      (c.conflict_files.length ? " in " + c.conflict_files.map(function (f) { return "<code>" + esc(f) + "</code>"; }).join(", ") : "");
    h.push('<dt>predicted</dt><dd id="outcome">' + pick + "</dd>");
    h.push("<dt>area</dt><dd>" + esc(c.area) + "</dd></dl>");
    h.push('<h3>Depends on (' + depsOf[i].length + ")</h3><ul id=\"depends\">");
    depsOf[i].forEach(function (k) {
      var e = D.edges[k];
      var why = e.reasons.map(function (r) {
        return "<code>" + esc(D.files[r[0]]) + (r[1] ? ":" + esc(r[1]) : "") + "</code>";
      }).join(" ");
      h.push('<li class="' + e.kind + '" data-id="' + D.nodes[e.depends_on].id + '"><span class="kind ' +
        e.kind + '">' + e.kind + "</span> " + link(e.depends_on) + '<div class="why">' + why + "</div></li>");
    });
    h.push("</ul>");
    if (c.blocks.length) {
      h.push('<h3 class="bad">Blocks (' + c.blocks.length + ")</h3><p>With this pick skipped, these picks " +
        "lose a dependency:</p><ul id=\"blocks\">" + c.blocks.map(function (b) { return "<li>" + link(b) + "</li>"; }).join("") + "</ul>");
    }
    h.push("<h3>Needed by (" + c.needed_by.length + ')</h3><ul id="needed">' +
      c.needed_by.map(function (b) { return "<li>" + link(b) + "</li>"; }).join("") + "</ul>");
    h.push("<h3>Files (" + c.files.length + ')</h3><ul id="files">' + c.files.map(function (f) {
      return "<li><code>" + esc(D.files[f]) + "</code></li>";
    }).join("") + "</ul>");
    $("details").innerHTML = h.join("");
  }
  $("details").onclick = function (ev) {
    var b = ev.target.closest("button[data-go]");
    if (b) goTo(+b.dataset.go);
  };

  // Opens a view that holds commit i (the one shown when it does) and selects it.
  function goTo(i) {
    var v = current !== null && D.views[current].nodes.indexOf(i) >= 0 ? current : null;
    if (v === null) {
      var kinds = [tab, "closure", "area", "time"];
      for (var n = 0; n < kinds.length && v === null; n++) {
        if (kinds[n] && viewsOf[i][kinds[n]] !== undefined) v = viewsOf[i][kinds[n]];
      }
      if (D.views[v].kind !== tab) showTab(D.views[v].kind);
      openView(v);
    }
    select(i);
    var g = $("graph").querySelector('g[data-i="' + i + '"]');
    if (g && g.scrollIntoView) g.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function search(q) {
    q = q.trim().toLowerCase();
    var out = [];
    if (q.length >= 2) {
      for (var i = 0; i < D.nodes.length && out.length < 30; i++) {
        var c = D.nodes[i];
        if (c.id.indexOf(q) === 0 || c.subject.toLowerCase().indexOf(q) >= 0 ||
            c.change_ids.some(function (x) { return x.toLowerCase().indexOf(q) === 0; })) out.push(i);
      }
    }
    $("results").innerHTML = out.map(function (i) { return "<li>" + link(i) + "</li>"; }).join("");
    return out;
  }
  $("search").oninput = function () { search(this.value); };
  $("search").onkeydown = function (ev) {
    if (ev.key === "Enter") {
      var found = search(this.value);
      if (found.length) { goTo(found[0]); $("results").innerHTML = ""; }
    }
  };
  $("results").onclick = function (ev) {
    var b = ev.target.closest("button[data-go]");
    if (b) { goTo(+b.dataset.go); $("results").innerHTML = ""; }
  };

  $("legend").innerHTML = '<span class="key lines">line dependency</span> ' +
    '<span class="key file">file dependency</span> <span class="key n-clean">clean pick</span> ' +
    '<span class="key n-empty">empty pick</span> <span class="key n-conflict">conflict !</span> ' +
    '<span class="key n-present">already on ' + esc(D.target) + "</span> " +
    '<span class="key n-wanted">asked for</span> <span class="key">+n: dependencies outside the cluster</span>';

  summary();
  tabs();
  if (D.views.length && D.views[0].kind === "closure") {
    showTab("closure");
    if (D.wanted.length) goTo(D.wanted[0]);
  } else {
    showTab("area");
  }
  window.regraft = { openView: openView, select: select, goTo: goTo, search: search };
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  document.body.dataset.ready = "1";
})();
