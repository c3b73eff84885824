// archcalc report: sorting, filtering, collapsing, the FLOP convention switch, diagram links and charts.
// Dependency-free. Every number comes from the page's JSON (computed by archcalc); text is set with
// textContent only, never parsed as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var nets = JSON.parse(document.getElementById("archcalc-data").textContent);
  var fmt = function (n) { return n.toLocaleString("en-US"); };

  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // ---- one network section -------------------------------------------------------------
  function Network(net, section) {
    this.net = net;
    this.section = section;
    this.tbody = section.querySelector("table.layers tbody");
    this.rows = Array.prototype.slice.call(this.tbody.rows);
    this.layerRows = [];
    this.moduleRows = [];
    var self = this;
    this.rows.forEach(function (tr) {
      (tr.dataset.kind === "layer" ? self.layerRows : self.moduleRows)[+tr.dataset.index] = tr;
    });
    this.depth = Infinity;
    this.expanded = {};  // module index -> true (open) / false (closed), overriding the depth
    this.filter = "";
    this.sortColumn = -1;
    this.sortDirection = 1;
    this.svg = section.querySelector("[data-diagram] svg");
    this.bind();
    this.refresh();
  }

  Network.prototype.collapsed = function (m) {
    var choice = this.expanded[m];
    return choice !== undefined ? !choice : this.net.modules[m].level >= this.depth;
  };

  Network.prototype.hiddenBy = function (scope) {
    for (var i = 0; i < scope.length; i++) if (this.collapsed(scope[i])) return scope[i];
    return -1;
  };

  Network.prototype.entry = function (tr) {
    return tr.dataset.kind === "layer" ? this.net.layers[+tr.dataset.index] : this.net.modules[+tr.dataset.index];
  };

  Network.prototype.visible = function () {
    var self = this;
    if (this.filter) {  // matching layers, flat
      var needle = this.filter.toLowerCase();
      return this.layerRows.filter(function (tr) {
        return (tr.cells[1].dataset.v + " " + tr.cells[2].dataset.v).toLowerCase().indexOf(needle) >= 0;
      });
    }
    var shown = this.rows.filter(function (tr) { return self.hiddenBy(self.entry(tr).scope) < 0; });
    if (this.sortColumn < 0) return shown;
    // Sorted: the units the table shows (layers and collapsed modules); an open module's row is a heading.
    shown = shown.filter(function (tr) { return tr.dataset.kind === "layer" || self.collapsed(+tr.dataset.index); });
    var column = this.sortColumn, direction = this.sortDirection;
    var numeric = this.section.querySelectorAll("table.layers th")[column].dataset.type === "num";
    return shown.sort(function (a, b) {
      var x = a.cells[column].dataset.v, y = b.cells[column].dataset.v;
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return order * direction || (+a.cells[0].dataset.v - +b.cells[0].dataset.v);
    });
  };

  Network.prototype.refresh = function () {
    var self = this;
    var shown = this.visible();
    this.rows.forEach(function (tr) { tr.hidden = true; });
    var fragment = document.createDocumentFragment();
    shown.forEach(function (tr) {
      tr.hidden = false;
      if (tr.dataset.kind === "module") tr.querySelector(".toggle").textContent = self.collapsed(+tr.dataset.index) ? "▸" : "▾";
      fragment.appendChild(tr);
    });
    this.rows.forEach(function (tr) { if (tr.hidden) fragment.appendChild(tr); });
    this.tbody.appendChild(fragment);
    var layers = shown.filter(function (tr) { return tr.dataset.kind === "layer"; }).length;
    this.section.querySelector("[data-shown]").textContent =
      layers + " of " + this.layerRows.length + " layers shown" + (shown.length > layers ? ", " + (shown.length - layers) + " module rows" : "");
  };

  Network.prototype.bind = function () {
    var self = this, section = this.section;
    section.querySelector("[data-filter]").addEventListener("input", function (event) {
      self.filter = event.target.value.trim();
      self.refresh();
    });
    section.querySelector("[data-depth]").addEventListener("change", function (event) {
      self.depth = event.target.value === "all" ? Infinity : +event.target.value;
      self.expanded = {};
      self.refresh();
    });
    var headers = section.querySelectorAll("table.layers th");
    Array.prototype.forEach.call(headers, function (th, column) {
      th.addEventListener("click", function () { self.sortBy(column, headers); });
    });
    this.tbody.addEventListener("click", function (event) {
      var tr = event.target.closest("tr");
      if (!tr) return;
      if (event.target.closest(".toggle")) {
        var m = +tr.dataset.index;
        self.expanded[m] = self.collapsed(m);
        self.refresh();
        return;
      }
      self.selectRows([tr], self.nodesOf(tr), "table");
    });
    if (this.svg) this.svg.addEventListener("click", function (event) {
      var node = event.target.closest("g.node");
      if (node) self.selectNode(node.id);
    });
    Array.prototype.forEach.call(section.querySelectorAll("[data-layer]"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var tr = self.layerRows[+link.dataset.layer];
        self.reveal(tr);
        self.selectRows([tr], self.nodesOf(tr), "link");
      });
    });
  };

  Network.prototype.sortBy = function (column, headers) {
    var first = headers[column].dataset.type === "num" ? -1 : 1;  // numbers largest first, text A to Z
    if (this.sortColumn !== column) {
      this.sortColumn = column;
      this.sortDirection = first;
    } else if (this.sortDirection === first) {
      this.sortDirection = -first;  // second click: the other way
    } else {
      this.sortColumn = -1;  // third click: back to the network's order
    }
    var self = this;
    Array.prototype.forEach.call(headers, function (th, i) {
      if (i === self.sortColumn) th.setAttribute("aria-sort", self.sortDirection > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    this.refresh();
  };

  // The diagram nodes that show a row: its own node, or for an open module those of its layers.
  Network.prototype.nodesOf = function (tr) {
    if (tr.dataset.node) return [tr.dataset.node];
    if (tr.dataset.kind !== "module") return [];
    var m = +tr.dataset.index, ids = {};
    this.net.layers.forEach(function (layer) { if (layer.node && layer.scope.indexOf(m) >= 0) ids[layer.node] = true; });
    return Object.keys(ids);
  };

  // Make a row visible: clear the filter and sorting it may be hidden by, open its closed modules.
  Network.prototype.reveal = function (tr) {
    var self = this;
    if (this.filter) {
      this.filter = "";
      this.section.querySelector("[data-filter]").value = "";
    }
    this.entry(tr).scope.forEach(function (m) { if (self.collapsed(m)) self.expanded[m] = true; });
    this.refresh();
  };

  Network.prototype.selectNode = function (id) {
    var self = this;
    var rows = this.rows.filter(function (tr) { return tr.dataset.node === id && tr.dataset.kind === "module"; });
    if (!rows.length) rows = this.layerRows.filter(function (tr) { return tr.dataset.node === id; });
    rows.forEach(function (tr) { self.reveal(tr); });
    this.selectRows(rows, [id], "diagram");
  };

  Network.prototype.selectRows = function (rows, nodeIds, from) {
    Array.prototype.forEach.call(this.section.querySelectorAll(".sel"), function (e) { e.classList.remove("sel"); });
    rows.forEach(function (tr) { tr.classList.add("sel"); });
    var svg = this.svg, first = null;
    if (svg) nodeIds.forEach(function (id) {
      var node = svg.getElementById ? svg.getElementById(id) : svg.querySelector("#" + id);
      if (node) { node.classList.add("sel"); first = first || node; }
    });
    if (from !== "table" && rows.length) rows[0].scrollIntoView({block: "nearest"});
    if (from !== "diagram" && first) first.scrollIntoView({block: "nearest", inline: "nearest"});
  };

  Network.prototype.setConvention = function (name) {
    var preset = this.net.presets[name], section = this.section;
    var modules = this.moduleRows, layers = this.layerRows;
    layers.forEach(function (tr, i) { setCell(tr.cells[7], preset.layers[i]); });
    modules.forEach(function (tr, m) { if (tr) setCell(tr.cells[7], preset.modules[m]); });
    section.querySelector("[data-total=flops]").textContent = fmt(preset.total);
    section.querySelector("[data-total=flops-training]").textContent = fmt(preset.total_training);
    section.querySelector(".flops-name").textContent = name;
    section.querySelector("th[data-flops-header] small").textContent = name + ": " + preset.unit;
    section.querySelectorAll(".card .flops-unit")[0].textContent = preset.unit;
    if (this.sortColumn === 7) this.refresh();
  };

  function setCell(td, value) {
    td.dataset.v = value;
    td.textContent = fmt(value);
  }

  // ---- charts ------------------------------------------------------------------------------
  var CHART_WIDTH = 360;

  // The units a share chart shows: layers, or the top-level modules and the layers outside them.
  function units(net, key, by) {
    var items = [];
    if (by === "layer") {
      net.layers.forEach(function (l) { if (!(key === "macs" && l.training_only)) items.push([l.name, l[key]]); });
    } else {
      net.modules.forEach(function (m) { if (m.level === 0) items.push([m.name, m[key]]); });
      net.layers.forEach(function (l) { if (!l.scope.length && !(key === "macs" && l.training_only)) items.push([l.name, l[key]]); });
    }
    return items;
  }

  function shareChart(box, net, key, by) {
    var total = net.totals[key];
    var items = units(net, key, by).filter(function (i) { return i[1] > 0; })
      .sort(function (a, b) { return b[1] - a[1]; });
    var top = items.slice(0, 10), rest = items.slice(10);
    if (rest.length) top.push(["other " + rest.length, rest.reduce(function (s, i) { return s + i[1]; }, 0), true]);
    var rowHeight = 17, labelWidth = 150, height = Math.max(top.length, 1) * rowHeight + 4;
    var svg = el("svg", {viewBox: "0 0 " + CHART_WIDTH + " " + height, role: "img"}, box);
    if (!total) { el("text", {x: 4, y: 14}, svg, "none"); return; }
    top.forEach(function (item, i) {
      var share = item[1] / total, y = i * rowHeight + 2, width = Math.max(share * (CHART_WIDTH - labelWidth - 48), 1);
      var label = item[0].length > 26 ? item[0].slice(0, 25) + "…" : item[0];
      el("text", {x: labelWidth - 4, y: y + 12, "text-anchor": "end", "class": "label"}, svg, label);
      var bar = el("rect", {x: labelWidth, y: y + 2, width: width, height: rowHeight - 5, "class": item[2] ? "bar other" : "bar"}, svg);
      el("title", {}, bar, item[0] + ": " + fmt(item[1]) + " (" + (100 * share).toFixed(1) + "%)");
      el("text", {x: labelWidth + width + 4, y: y + 12}, svg, (100 * share).toFixed(1) + "%");
    });
  }

  function log2(v) { return Math.log(v) / Math.LN2; }

  // Receptive field and output resolution (height) along the layers, on a log scale.
  function depthChart(box, net) {
    var layers = net.layers, height = 170, left = 34, bottom = 18, top = 6;
    var values = [];
    layers.forEach(function (l) { if (l.rf > 0) values.push(l.rf); if (l.resolution) values.push(l.resolution); });
    var high = Math.ceil(log2(Math.max.apply(null, values.concat([2])))), span = Math.max(high, 1);
    var svg = el("svg", {viewBox: "0 0 " + CHART_WIDTH + " " + height, role: "img"}, box);
    var x = function (i) { return left + (CHART_WIDTH - left - 6) * (layers.length > 1 ? i / (layers.length - 1) : 0); };
    var y = function (v) { return top + (height - top - bottom) * (1 - log2(Math.max(v, 1)) / span); };
    for (var p = 0; p <= high; p += Math.max(1, Math.ceil(high / 6))) {
      el("line", {x1: left, x2: CHART_WIDTH - 6, y1: y(Math.pow(2, p)), y2: y(Math.pow(2, p)), "class": "axis", "stroke-dasharray": "2 3"}, svg);
      el("text", {x: left - 3, y: y(Math.pow(2, p)) + 3, "text-anchor": "end"}, svg, fmt(Math.pow(2, p)));
    }
    el("text", {x: left, y: height - 4}, svg, "layer 0");
    el("text", {x: CHART_WIDTH - 6, y: height - 4, "text-anchor": "end"}, svg, "layer " + (layers.length - 1));
    [["rf", "series-rf"], ["resolution", "series-res"]].forEach(function (series) {
      var points = [];
      layers.forEach(function (l, i) { if (l[series[0]]) points.push(x(i).toFixed(1) + "," + y(l[series[0]]).toFixed(1)); });
      if (points.length) el("polyline", {points: points.join(" "), "class": series[1]}, svg);
    });
  }

  function memoryChart(box, net) {
    var layers = net.layers, height = 150, left = 6, bottom = 16;
    var peak = Math.max.apply(null, layers.map(function (l) { return l.memory; }).concat([1]));
    var svg = el("svg", {viewBox: "0 0 " + CHART_WIDTH + " " + height, role: "img"}, box);
    var width = (CHART_WIDTH - left - 6) / Math.max(layers.length, 1);
    layers.forEach(function (l, i) {
      var h = (height - bottom - 4) * l.memory / peak;
      if (h <= 0) return;
      var bar = el("rect", {x: left + i * width, y: height - bottom - h, width: Math.max(width - (width > 3 ? 1 : 0), 0.5), height: h, "class": "bar"}, svg);
      el("title", {}, bar, l.name + ": " + fmt(l.memory) + " bytes");
    });
    el("text", {x: left, y: height - 3}, svg, "layer 0");
    el("text", {x: CHART_WIDTH - 6, y: height - 3, "text-anchor": "end"}, svg, "peak " + fmt(peak) + " bytes");
  }

  function chartBox(parent, title, choices, draw) {
    var box = document.createElement("div");
    box.className = "chart";
    var header = document.createElement("header");
    var h = document.createElement("h3");
    h.textContent = title;
    header.appendChild(h);
    var body = document.createElement("div");
    if (choices) {
      var select = document.createElement("select");
      select.setAttribute("aria-label", title + ": per");
      choices.forEach(function (c) { var o = document.createElement("option"); o.value = c; o.textContent = "per " + c; select.appendChild(o); });
      select.addEventListener("change", function () { body.textContent = ""; draw(body, select.value); });
      header.appendChild(select);
    }
    box.appendChild(header);
    box.appendChild(body);
    parent.appendChild(box);
    draw(body, choices ? choices[0] : null);
    return box;
  }

  function drawCharts(net, section) {
    var place = section.querySelector("[data-charts]");
    var choices = net.modules.length ? ["module", "layer"] : null;
    chartBox(place, "Share of parameters", choices, function (body, by) { shareChart(body, net, "params", by || "layer"); });
    chartBox(place, "Share of MACs", choices, function (body, by) { shareChart(body, net, "macs", by || "layer"); });
    chartBox(place, "Receptive field and resolution", null, function (body) {
      var legend = document.createElement("div");
      legend.className = "legend";
      [["rf", "receptive field (pixels)"], ["res", "output height"]].forEach(function (s) {
        var span = document.createElement("span");
        span.className = s[0];
        span.textContent = "— " + s[1] + "  ";
        legend.appendChild(span);
      });
      body.appendChild(legend);
      depthChart(body, net);
    });
    chartBox(place, "Activation memory per layer", null, function (body) { memoryChart(body, net); });
  }

  // ---- the page ----------------------------------------------------------------------------
  var networks = nets.map(function (net, i) {
    var section = document.getElementById(net.prefix + "net");
    drawCharts(net, section);
    return new Network(net, section);
  });

  var select = document.getElementById("convention");
  select.addEventListener("change", function () {
    var name = select.value;
    networks.forEach(function (network) { network.setConvention(name); });
    document.getElementById("convention-counts").textContent = nets[0].presets[name].counts;
    Array.prototype.forEach.call(document.querySelectorAll("[data-flops-total]"), function (td) {
      td.textContent = fmt(nets[+td.dataset.flopsTotal].presets[name].total);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".compare .flops-name"), function (s) { s.textContent = name; });
  });
  if (select.value !== nets[0].convention) select.dispatchEvent(new Event("change"));  // a reload keeps the choice
})();
