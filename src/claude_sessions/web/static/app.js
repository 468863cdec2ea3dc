/* claude-sessions web app: local times, keyboard, lazy loading and live updates.
   Loaded from /static (the Content-Security-Policy allows no inline script). Every
   fragment it inserts was rendered, and escaped, by the server. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  /* Times arrive in UTC; show them in the reader's own time zone. */
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      var seconds = el.textContent.trim().length > 16;
      el.title = moment.toString();
      el.textContent = moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" +
        pad(moment.getDate()) + " " + pad(moment.getHours()) + ":" + pad(moment.getMinutes()) +
        (seconds ? ":" + pad(moment.getSeconds()) : "");
    });
  }

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      });
  }

  /* Server HTML as nodes; a <template> runs nothing it parses. */
  function parse(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content;
  }

  /* Calls onChange (one at a time, coalesced) whenever the stream at url says so. */
  function live(url, version, onChange) {
    if (!window.EventSource || !url) return;
    var source = new EventSource(url + "?since=" + encodeURIComponent(version));
    var busy = false;
    var again = false;
    function run() {
      busy = true;
      onChange().catch(function () { /* the next change tries again */ }).then(function () {
        if (again) { again = false; run(); } else { busy = false; }
      });
    }
    source.addEventListener("changed", function () {
      if (busy) { again = true; } else { run(); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  /* Empty filter fields stay out of the URL, so shared links stay short. */
  function tidyForms() {
    document.querySelectorAll("form.filters").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("input, select").forEach(function (field) {
          if ((field.type === "checkbox" && !field.checked) || field.value === "") field.disabled = true;
        });
      });
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form.filters [disabled]").forEach(function (field) { field.disabled = false; });
    });
  }

  function sessionsPage() {
    var search = document.getElementById("search");
    var selected = -1;
    function rows() { return Array.prototype.slice.call(document.querySelectorAll("#results tbody tr")); }
    function select(index) {
      var all = rows();
      if (!all.length) { selected = -1; return; }
      selected = Math.max(0, Math.min(index, all.length - 1));
      all.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
      all[selected].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target.closest && target.closest("input, textarea, select");
      if (event.metaKey || event.ctrlKey || event.altKey) return;
      if (typing) {
        if (event.key === "Escape") target.blur();
        return;
      }
      if (event.key === "/") {
        event.preventDefault();
        search.focus();
        search.select();
      } else if (event.key === "j") {
        select(selected + 1);
      } else if (event.key === "k") {
        select(selected < 0 ? 0 : selected - 1);
      } else if (event.key === "Enter" && selected >= 0) {
        var link = rows()[selected].querySelector("a.title");
        if (link) window.location.href = link.href;
      }
    });
    var results = document.getElementById("results");
    live(results.dataset.live, results.dataset.version, function () {
      var params = new URLSearchParams(window.location.search);
      params.set("fragment", "1");
      return fetchHtml("/?" + params.toString()).then(function (html) {
        var fresh = parse(html).querySelector("#results");
        if (!fresh) return;
        localTimes(fresh);
        document.getElementById("results").replaceWith(fresh);
        if (selected >= 0) select(selected);
      });
    });
  }

  function sessionPage() {
    var turns = document.getElementById("turns");
    var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { if (entry.isIntersecting) loadMore(entry.target); });
    }, { rootMargin: "1200px 0px" }) : null;

    function loadMore(link) {
      if (link.dataset.loading) return Promise.resolve();
      link.dataset.loading = "1";
      link.textContent = "Loading…";
      if (observer) observer.unobserve(link);
      return fetchHtml(link.dataset.src).then(function (html) {
        var piece = parse(html);
        localTimes(piece);
        link.replaceWith(piece);
        watch();
      }).catch(function () {
        delete link.dataset.loading;
        link.textContent = "Could not load the next exchanges; click to try again";
      });
    }

    function watch() {
      turns.querySelectorAll("a.more[data-src]").forEach(function (link) {
        if (link.dataset.watched) return;
        link.dataset.watched = "1";
        link.addEventListener("click", function (event) { event.preventDefault(); loadMore(link); });
        if (observer) observer.observe(link);
      });
    }

    /* A link to a message further down (a fork's branch point, a search result) loads
       through it, in one request, then shows it. */
    function reveal(tries) {
      var id = decodeURIComponent(window.location.hash.slice(1));
      if (!id || tries > 200) return;
      var target = document.getElementById(id);
      if (target) { show(target); return; }
      var more = turns.querySelector("a.more[data-src]");
      if (!more) return;
      if (id.indexOf("m-") === 0 && more.dataset.src.indexOf("&at=") < 0) {
        more.dataset.src += "&at=" + encodeURIComponent(id.slice(2));
      }
      loadMore(more).then(function () { reveal(tries + 1); });
    }

    /* The words of the search that led here, marked where they start a word. */
    function markWords(region, words) {
      var escaped = words.map(function (word) { return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
      var pattern = new RegExp("(?<![\\p{L}\\p{N}_])(?:" + escaped.join("|") + ")", "giu");
      var walker = document.createTreeWalker(region, NodeFilter.SHOW_TEXT);
      var texts = [];
      while (walker.nextNode()) texts.push(walker.currentNode);
      var marks = [];
      texts.forEach(function (node) {
        var text = node.nodeValue;
        var pieces = document.createDocumentFragment();
        var last = 0;
        pattern.lastIndex = 0;
        var found;
        while ((found = pattern.exec(text)) !== null) {
          pieces.appendChild(document.createTextNode(text.slice(last, found.index)));
          var mark = document.createElement("mark");
          mark.className = "hit";
          mark.textContent = found[0];
          pieces.appendChild(mark);
          marks.push(mark);
          last = found.index + found[0].length;
        }
        if (!last) return;
        pieces.appendChild(document.createTextNode(text.slice(last)));
        node.replaceWith(pieces);
      });
      return marks;
    }

    function unfold(element) {
      for (var at = element; at; at = at.parentElement) {
        if (at.tagName === "DETAILS") at.open = true;
      }
    }

    function show(target) {
      var region = target.dataset.of === "next" ? target.nextElementSibling : target.closest(".turn");
      region = region || target;
      region.classList.add("found");
      var words = (turns.dataset.words || "").split(" ").filter(Boolean);
      var marks = words.length ? markWords(region, words) : [];
      unfold(target);
      marks.forEach(unfold);
      (marks[0] || region).scrollIntoView({ block: "center" });
    }

    function refreshFacts() {
      return fetchHtml(turns.dataset.facts).then(function (html) {
        var fresh = parse(html).querySelector("#facts");
        var old = document.getElementById("facts");
        if (fresh && old) { localTimes(fresh); old.replaceWith(fresh); }
      });
    }

    /* New turns: fetch from the first turn that may have changed, replace from there. */
    function refreshTurns() {
      if (turns.querySelector("a.more[data-src]")) return Promise.resolve();
      var slices = turns.querySelectorAll(".slice");
      var from = parseInt(slices[slices.length - 1].dataset.settled, 10) || 0;
      var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
      return fetchHtml(turns.dataset.src + "?start=" + from).then(function (html) {
        var piece = parse(html);
        localTimes(piece);
        turns.querySelectorAll(".turn[data-index]").forEach(function (turn) {
          if (parseInt(turn.dataset.index, 10) >= from) turn.remove();
        });
        turns.querySelectorAll(".slice > .empty, .slice > .unlinked").forEach(function (note) { note.remove(); });
        turns.appendChild(piece);
        watch();
        if (atBottom) window.scrollTo(0, document.body.scrollHeight);
      });
    }

    watch();
    reveal(0);
    live(turns.dataset.live, turns.dataset.version, function () {
      return refreshTurns().then(refreshFacts);  /* the server loads the session once for both */
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    tidyForms();
    if (document.getElementById("results")) sessionsPage();
    if (document.getElementById("turns")) sessionPage();
  });
}());
